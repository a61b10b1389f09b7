/**
 * What keeping other local accounts off a TCP-only app costs (the port guard, issue 29's
 * "namespace bridge" goal: hubapps chose nftables rules over a network namespace per
 * server). wrk against a small HTTP server on loopback, in one run, interleaved:
 * - direct, no guard: the baseline;
 * - the port guard's nftables table on (the pair port . uid 0 lets wrk through);
 * - when pasta (Debian's passt) is installed, the alternative the guard was chosen over:
 *   the same server in a network namespace of its own, its port forwarded by pasta.
 * Each with a new connection per request (every SYN meets the guard: the worst case) and
 * with keep-alive. Besides req/s, the CPU the whole machine spent per request (from
 * /proc/stat, wrk included, which is the same in every variant), so the guard's own cost
 * is the difference to direct. Needs root, nft and wrk; removes its table and stops its
 * processes before it returns.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { replaceTable } from '../src/limits/port-guard-rules.js';
import { freePort } from '../src/net/ports.js';
import { machineCpuMs } from './procs.js';
import type { RunContext } from './run-context.js';
import { median } from './stats.js';
import { runWrk, wrkAvailable } from './wrk.js';

const TABLE = 'hubapps_bench';
const PASTA = '/usr/bin/pasta';
const SERVER =
  "require('http').createServer((q, s) => s.end('ok')).listen(Number(process.argv[1]), '127.0.0.1')";

export type GuardVariant = 'direct' | 'guard' | 'pasta';
export type GuardMode = 'close' | 'keep';

export interface GuardFigure {
  variant: GuardVariant;
  mode: GuardMode;
  /** Medians of the rounds. */
  rps: number;
  /** CPU time of the whole machine per request, µs. */
  machineCpuUs: number;
}

export interface GuardReport {
  skipped: string | null;
  rounds: number;
  seconds: number;
  connections: number;
  figures: GuardFigure[];
}

function nft(script: string): void {
  execFileSync('nft', ['-f', '-'], { input: script });
}

/** The server in a namespace of its own, its port forwarded from this one by pasta. */
async function startPasta(port: number): Promise<ChildProcess> {
  // As root pasta would switch to nobody, who may not map users here: --runas 0 keeps root.
  const child = spawn(
    PASTA,
    [
      '--runas',
      '0',
      '--foreground',
      '--config-net',
      '-t',
      String(port),
      '--',
      process.execPath,
      '-e',
      SERVER,
      String(port),
    ],
    { stdio: 'ignore' },
  );
  const end = Date.now() + 10_000;
  while (Date.now() < end) {
    const body = await fetch(`http://127.0.0.1:${port}/`)
      .then((r) => r.text())
      .catch(() => '');
    if (body === 'ok') return child;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill();
  throw new Error('the server behind pasta did not answer within 10 s');
}

export async function runGuardSection(
  opts: { rounds: number; seconds: number },
  ctx: RunContext,
): Promise<GuardReport> {
  const connections = 8;
  const report: GuardReport = { skipped: null, ...opts, connections, figures: [] };
  if (process.getuid?.() !== 0 || !wrkAvailable() || !existsSync('/usr/sbin/nft'))
    return { ...report, skipped: 'needs root, /usr/bin/wrk and /usr/sbin/nft' };
  const server = http.createServer((_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const on = replaceTable(TABLE, { min: port, max: port }, [{ port, uid: 0 }]);
  const off = `table inet ${TABLE} {}\ndelete table inet ${TABLE}\n`;
  let pasta: ChildProcess | null = null;
  const cleanup = async () => {
    nft(off);
    server.close();
    pasta?.kill();
  };
  const forget = ctx.onAbort(cleanup);
  const samples = new Map<string, { rps: number[]; cpu: number[] }>();
  try {
    const pastaPort = existsSync(PASTA) ? await freePort('127.0.0.1') : 0;
    if (pastaPort) pasta = await startPasta(pastaPort);
    const variants: GuardVariant[] = pasta ? ['direct', 'guard', 'pasta'] : ['direct', 'guard'];
    nft(on);
    // The guard must be in the path measured: checked once on the table as the helper writes it.
    if (
      !execFileSync('nft', ['list', 'table', 'inet', TABLE], { encoding: 'utf8' }).includes(
        `${port} . 0`,
      )
    )
      throw new Error('the guard table did not take the pair');
    for (let round = 0; round < opts.rounds; round++) {
      for (const v of round % 2 ? [...variants].reverse() : variants) {
        nft(v === 'guard' ? on : off);
        const url = `http://127.0.0.1:${v === 'pasta' ? pastaPort : port}/`;
        for (const mode of ['close', 'keep'] as const) {
          const cpu0 = machineCpuMs();
          const r = await runWrk(url, {
            connections,
            seconds: opts.seconds,
            ...(mode === 'close' ? { headers: { connection: 'close' } } : {}),
          });
          const cpu = machineCpuMs() - cpu0;
          if (r.errors) throw new Error(`wrk saw ${r.errors} errors (${v}, ${mode})`);
          const key = `${v}/${mode}`;
          const s = samples.get(key) ?? { rps: [], cpu: [] };
          s.rps.push(r.rps);
          s.cpu.push((cpu * 1000) / Math.max(1, r.requests));
          samples.set(key, s);
        }
        ctx.note(`guard round ${round + 1}, ${v} measured`);
      }
    }
    for (const [key, s] of samples) {
      const [variant, mode] = key.split('/') as [GuardVariant, GuardMode];
      report.figures.push({ variant, mode, rps: median(s.rps), machineCpuUs: median(s.cpu) });
    }
    return report;
  } finally {
    await cleanup();
    forget();
  }
}
