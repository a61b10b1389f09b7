/**
 * Running wrk (Debian's, /usr/bin/wrk) against one URL and reading its figures: requests
 * per second and the latency percentiles of --latency. Responses other than 2xx/3xx and
 * socket errors are counted, so a run that measured error pages says so.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';

export const WRK = '/usr/bin/wrk';

export interface WrkResult {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  /** Non-2xx/3xx responses plus socket errors. */
  errors: number;
}

export interface WrkOptions {
  connections: number;
  seconds: number;
  headers?: Record<string, string>;
}

export function wrkAvailable(): boolean {
  return existsSync(WRK);
}

export function runWrk(url: string, opts: WrkOptions): Promise<WrkResult> {
  // One thread: on two cores a second wrk thread only takes CPU from the processes measured.
  const args = [
    '-t1',
    `-c${opts.connections}`,
    `-d${opts.seconds}s`,
    '--latency',
    '--timeout',
    '5s',
  ];
  for (const [k, v] of Object.entries(opts.headers ?? {})) args.push('-H', `${k}: ${v}`);
  args.push(url);
  return new Promise((resolve, reject) => {
    execFile(WRK, args, { timeout: (opts.seconds + 15) * 1000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`wrk failed: ${err.message}\n${stderr}`));
      try {
        resolve(parseWrk(stdout));
      } catch (parseErr) {
        reject(new Error(`${(parseErr as Error).message}; wrk printed:\n${stdout}`));
      }
    });
  });
}

export function parseWrk(text: string): WrkResult {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1]);
  const requests = Number(/(\d+) requests in/.exec(text)?.[1]);
  if (!Number.isFinite(rps) || !Number.isFinite(requests))
    throw new Error('no Requests/sec in the output of wrk');
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(text)?.[1] ?? 0);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const socketErrors = sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
  return {
    rps,
    p50: latency(text, '50%'),
    p99: latency(text, '99%'),
    requests,
    errors: non2xx + socketErrors,
  };
}

/** A percentile line of "Latency Distribution", in milliseconds. */
function latency(text: string, label: string): number {
  const m = new RegExp(`^\\s+${label}\\s+([\\d.]+)(us|ms|s)\\s*$`, 'm').exec(text);
  if (!m) throw new Error(`no ${label} latency in the output of wrk`);
  const scale = m[2] === 'us' ? 1e-3 : m[2] === 'ms' ? 1 : 1e3;
  return Number(m[1]) * scale;
}
