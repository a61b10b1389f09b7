/**
 * One browser tab attached to the terminal, with its share of the flow control.
 *
 * Output is counted as in flight from the moment it is sent until the browser
 * acknowledges it (after xterm.js has parsed it), following xterm.js's flow-control
 * guide. That one number covers every buffer on the way: this process's WebSocket
 * buffer (checked as well, in case a client acknowledges too eagerly), the proxy, the
 * network and the browser's own queue. A viewer above the high-water mark is congested
 * until it is back below the low-water mark; while any viewer is congested the session
 * pauses the pty, so the slowest tab sets the pace and `yes` can neither grow memory
 * here nor flood a browser. A viewer that stays congested for `stallMs` (a suspended
 * laptop, a dead connection the kernel has not noticed) is disconnected, so it cannot
 * hold the shell back for ever; it may reconnect and gets the scrollback.
 */
import type { WebSocket } from 'ws';
import { parseClientControl, type ServerControl } from './protocol.js';

export interface FlowLimits {
  highWater: number;
  lowWater: number;
  stallMs: number;
}

export interface ViewerEvents {
  input(data: Buffer): void;
  resize(cols: number, rows: number): void;
  /** The viewer became congested or free again. */
  flow(): void;
  closed(viewer: Viewer): void;
}

const OPEN = 1;

export class Viewer {
  congested = false;
  private inFlight = 0;
  private stallTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly ws: WebSocket,
    private readonly limits: FlowLimits,
    private readonly events: ViewerEvents,
  ) {
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) =>
      this.receive(data, isBinary),
    );
    ws.once('close', () => {
      this.clearStall();
      events.closed(this);
    });
    // A broken connection also closes; the error itself needs no handling.
    ws.on('error', () => undefined);
  }

  output(chunk: Buffer): void {
    if (this.ws.readyState !== OPEN || chunk.length === 0) return;
    this.inFlight += chunk.length;
    this.ws.send(chunk, { binary: true }, () => this.update());
    this.update();
  }

  control(message: ServerControl): void {
    if (this.ws.readyState === OPEN) this.ws.send(JSON.stringify(message));
  }

  close(code: number, reason: string): void {
    this.ws.close(code, reason);
  }

  private receive(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    const bytes = Array.isArray(data)
      ? Buffer.concat(data)
      : Buffer.isBuffer(data)
        ? data
        : Buffer.from(data);
    if (isBinary) return this.events.input(bytes);
    const message = parseClientControl(bytes.toString('utf8'));
    if (message?.type === 'resize') this.events.resize(message.cols, message.rows);
    else if (message?.type === 'ack') {
      this.inFlight = Math.max(0, this.inFlight - message.bytes);
      this.update();
    }
  }

  private update(): void {
    const load = Math.max(this.inFlight, this.ws.bufferedAmount);
    const congested = this.congested ? load > this.limits.lowWater : load > this.limits.highWater;
    if (congested === this.congested) return;
    this.congested = congested;
    if (congested) {
      this.stallTimer = setTimeout(() => this.ws.terminate(), this.limits.stallMs);
    } else {
      this.clearStall();
    }
    this.events.flow();
  }

  private clearStall(): void {
    if (this.stallTimer !== null) clearTimeout(this.stallTimer);
    this.stallTimer = null;
  }
}
