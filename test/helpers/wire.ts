/**
 * One raw TCP connection, written and read byte for byte: what the wire tests need to
 * reuse a connection the way CHP's agent or a hostile client would (a second request
 * after a refused upgrade, pipelining), which no HTTP client library does on purpose.
 */
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from './wait.js';

export class WireConnection {
  private received = '';
  private ended = false;

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (c: string) => (this.received += c));
    // A write after the peer closed is expected in these tests: the close is what they look for.
    socket.on('error', () => undefined);
    socket.on('close', () => (this.ended = true));
  }

  static open(port: number, host = '127.0.0.1'): Promise<WireConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, host);
      socket.once('connect', () => resolve(new WireConnection(socket)));
      socket.once('error', reject);
    });
  }

  /** Everything received so far. */
  get text(): string {
    return this.received;
  }

  get closed(): boolean {
    return this.ended;
  }

  write(text: string): void {
    if (!this.ended && this.socket.writable) this.socket.write(text, 'latin1');
  }

  /** Wait until the received bytes hold `count` status lines (or the connection closed). */
  async answers(count: number, timeout = 5000): Promise<number> {
    await waitFor(() => this.ended || statusLines(this.received).length >= count, {
      timeout,
      what: `${count} answer(s) on the connection`,
    });
    return statusLines(this.received).length;
  }

  /** True when the peer closed the connection within `ms`. */
  async closesWithin(ms: number): Promise<boolean> {
    const until = Date.now() + ms;
    while (!this.ended && Date.now() < until) await sleep(20);
    return this.ended;
  }

  /** The status codes of every answer received, in order. */
  statuses(): number[] {
    return statusLines(this.received).map((line) => Number(line.split(' ')[1]));
  }

  destroy(): void {
    this.socket.destroy();
  }
}

function statusLines(text: string): string[] {
  return text.match(/HTTP\/1\.[01] \d{3}[^\r\n]*/g) ?? [];
}

/** A WebSocket handshake request as a browser sends it. */
export function upgradeRequest(path: string, headers: Record<string, string>): string {
  const lines = [
    `GET ${path} HTTP/1.1`,
    'host: 127.0.0.1',
    'connection: Upgrade',
    'upgrade: websocket',
    'sec-websocket-version: 13',
    'sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==',
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** A plain GET with no credential, on a keep-alive connection. */
export function plainRequest(path: string, headers: Record<string, string> = {}): string {
  const lines = [
    `GET ${path} HTTP/1.1`,
    'host: 127.0.0.1',
    'connection: keep-alive',
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  return `${lines.join('\r\n')}\r\n\r\n`;
}
