/**
 * A scripted client of the built-in terminal's WebSocket protocol
 * (src/apps/terminal/protocol.ts), as the page's script speaks it: it types bytes,
 * resizes, collects the output as text and acknowledges output (unless told not to, to
 * play a slow browser).
 */
import { StringDecoder } from 'node:string_decoder';
import WebSocket from 'ws';
import type { ServerControl } from '../../src/apps/terminal/protocol.js';
import { waitFor } from './wait.js';

export interface TermClientOptions {
  headers?: Record<string, string>;
  /** Acknowledge output as it arrives (default true). */
  ack?: boolean;
}

export class TermClient {
  /** All output so far, decoded as UTF-8. */
  text = '';
  /** Bytes of output received. */
  bytes = 0;
  /** Bytes received but not acknowledged yet. */
  unacked = 0;
  readonly controls: ServerControl[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  autoAck: boolean;
  private readonly decoder = new StringDecoder('utf8');

  private constructor(
    readonly ws: WebSocket,
    opts: TermClientOptions,
  ) {
    this.autoAck = opts.ack ?? true;
    this.closed = new Promise((resolve) =>
      ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })),
    );
    ws.on('message', (data: Buffer, isBinary) => {
      if (!isBinary) return void this.controls.push(JSON.parse(String(data)) as ServerControl);
      this.bytes += data.length;
      this.text += this.decoder.write(data);
      this.unacked += data.length;
      if (this.autoAck) this.ack();
    });
  }

  /** Connect; rejects with an error carrying `status` when the server refuses the upgrade. */
  static open(url: string, opts: TermClientOptions = {}): Promise<TermClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers: opts.headers });
      const client = new TermClient(ws, opts);
      ws.once('open', () => resolve(client));
      ws.once('unexpected-response', (_req, res) => {
        res.resume();
        reject(
          Object.assign(new Error(`refused with ${res.statusCode}`), { status: res.statusCode }),
        );
      });
      ws.once('error', reject);
    });
  }

  type(text: string): void {
    this.ws.send(Buffer.from(text, 'utf8'));
  }

  resize(cols: number, rows: number): void {
    this.ws.send(JSON.stringify({ type: 'resize', cols, rows }));
  }

  /** Acknowledge everything received so far. */
  ack(): void {
    if (this.unacked > 0 && this.ws.readyState === WebSocket.OPEN)
      this.ws.send(JSON.stringify({ type: 'ack', bytes: this.unacked }));
    this.unacked = 0;
  }

  /** Wait until the output from `from` on matches; resolves with the match. */
  async expect(
    pattern: RegExp,
    opts: { from?: number; timeout?: number } = {},
  ): Promise<RegExpExecArray> {
    return waitFor(() => pattern.exec(this.text.slice(opts.from ?? 0)), {
      timeout: opts.timeout ?? 10_000,
      interval: 20,
      what: `terminal output matching ${pattern}`,
    }).catch((err: Error) => {
      throw new Error(
        `${err.message}\n--- last output ---\n${JSON.stringify(this.text.slice(-600))}`,
      );
    });
  }

  /** Run a command line in the shell and wait for the output matching `pattern` that follows it. */
  async run(command: string, pattern: RegExp, timeout?: number): Promise<RegExpExecArray> {
    const from = this.text.length;
    this.type(`${command}\r`);
    return this.expect(pattern, { from, timeout });
  }

  close(): Promise<{ code: number; reason: string }> {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING)
      this.ws.close();
    return this.closed;
  }
}
