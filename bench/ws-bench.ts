/**
 * WebSocket echo through a path: each connection sends a 64-byte message, waits for its
 * echo and sends the next, until the time is up. One connection gives the round-trip
 * time; many give messages per second. The client runs in this process (Node + ws).
 */
import WebSocket from 'ws';
import { percentile } from './stats.js';

const MESSAGE = 'x'.repeat(64);

export interface WsResult {
  /** Echoes received per second, all connections together. */
  msgsPerS: number;
  /** Round-trip time percentiles, ms. */
  p50: number;
  p99: number;
  messages: number;
}

export interface WsOptions {
  connections: number;
  seconds: number;
  headers?: Record<string, string>;
}

export async function runWsEcho(url: string, opts: WsOptions): Promise<WsResult> {
  const sockets = await Promise.all(
    Array.from({ length: opts.connections }, () => open(url, opts.headers ?? {})),
  );
  const rtts: number[] = [];
  const t0 = performance.now();
  const end = t0 + opts.seconds * 1000;
  await Promise.all(sockets.map((ws) => pingPong(ws, end, rtts)));
  const elapsed = (performance.now() - t0) / 1000;
  for (const ws of sockets) ws.terminate();
  return {
    msgsPerS: rtts.length / elapsed,
    p50: percentile(rtts, 50),
    p99: percentile(rtts, 99),
    messages: rtts.length,
  };
}

function open(url: string, headers: Record<string, string>): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers, perMessageDeflate: false });
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`websocket to ${url} did not open within 5 s`));
    }, 5000);
    ws.once('open', () => {
      clearTimeout(timer);
      resolve(ws);
    });
    ws.once('unexpected-response', (_req, res) => {
      clearTimeout(timer);
      reject(new Error(`websocket to ${url} was answered with HTTP ${res.statusCode}`));
    });
    ws.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

function pingPong(ws: WebSocket, end: number, rtts: number[]): Promise<void> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    const send = () => {
      sent = performance.now();
      ws.send(MESSAGE);
    };
    ws.on('message', () => {
      const now = performance.now();
      rtts.push(now - sent);
      if (now < end) send();
      else resolve();
    });
    ws.once('close', () => reject(new Error('websocket closed during the benchmark')));
    ws.once('error', reject);
    send();
  });
}
