/**
 * `npm run bench:guard`: what keeping other local accounts off a TCP-only app costs. wrk
 * (as root) against a small HTTP server on loopback, in one run, interleaved:
 * - direct, no guard: the baseline;
 * - the port guard's nftables table on (the pair port . uid 0 lets wrk through);
 * - when pasta (Debian's passt) is installed, the alternative the guard was chosen over:
 *   the same server in a network namespace of its own, its port forwarded by pasta.
 * Each with a new connection per request (every SYN meets the guard) and with keep-alive.
 * Needs root, nft and wrk; prints a Markdown table for docs/benchmarks.md and removes its
 * table and stops its processes before it exits.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { replaceTable } from '../src/limits/port-guard-rules.js';
import { freePort } from '../test/helpers/ports.js';
import { waitFor } from '../test/helpers/wait.js';
import { percentile, ratio } from './stats.js';
import { runWrk, wrkAvailable } from './wrk.js';

const TABLE = 'hubapps_bench';
const ROUNDS = 5;
const SECONDS = 5;
const PASTA = '/usr/bin/pasta';
const SERVER =
  "require('http').createServer((q, s) => s.end('ok')).listen(Number(process.argv[1]), '127.0.0.1')";

type Variant = 'direct' | 'guard' | 'pasta';

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
  await waitFor(
    async () =>
      (await fetch(`http://127.0.0.1:${port}/`)
        .then((r) => r.text())
        .catch(() => '')) === 'ok',
    { timeout: 10_000, what: 'the server behind pasta' },
  );
  return child;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0 || !wrkAvailable())
    throw new Error('needs root and /usr/bin/wrk (apt-get install wrk nftables)');
  const server = http.createServer((_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const on = replaceTable(TABLE, { min: port, max: port }, [{ port, uid: 0 }]);
  const off = `table inet ${TABLE} {}\ndelete table inet ${TABLE}\n`;
  const pastaPort = existsSync(PASTA) ? await freePort() : 0;
  const pasta = pastaPort ? await startPasta(pastaPort) : null;
  const variants: Variant[] = pasta ? ['direct', 'guard', 'pasta'] : ['direct', 'guard'];
  const figures = new Map<string, number[]>();
  const add = (key: string, v: number) => figures.set(key, [...(figures.get(key) ?? []), v]);
  try {
    nft(on);
    // The guard must be in the path measured: checked once on the table as the helper writes it.
    if (
      !execFileSync('nft', ['list', 'table', 'inet', TABLE], { encoding: 'utf8' }).includes(
        `${port} . 0`,
      )
    )
      throw new Error('the guard table did not take the pair');
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 ? [...variants].reverse() : variants;
      for (const v of order) {
        nft(v === 'guard' ? on : off);
        const url = `http://127.0.0.1:${v === 'pasta' ? pastaPort : port}/`;
        const close = await runWrk(url, {
          connections: 8,
          seconds: SECONDS,
          headers: { connection: 'close' },
        });
        const keep = await runWrk(url, { connections: 8, seconds: SECONDS });
        if (close.errors || keep.errors)
          throw new Error(`wrk saw ${close.errors + keep.errors} errors (${v})`);
        add(`close/${v}`, close.rps);
        add(`keep/${v}`, keep.rps);
        process.stderr.write(
          `round ${round + 1}, ${v}: ${close.rps.toFixed(0)} req/s new connections, ${keep.rps.toFixed(0)} keep-alive\n`,
        );
      }
    }
  } finally {
    nft(off);
    server.close();
    pasta?.kill();
  }
  const med = (k: string) => percentile(figures.get(k)!, 50);
  const cells = (mode: string) =>
    variants.map((v) =>
      v === 'direct'
        ? `${med(`${mode}/${v}`).toFixed(0)}`
        : `${med(`${mode}/${v}`).toFixed(0)} (${ratio(med(`${mode}/${v}`), med(`${mode}/direct`)).toFixed(2)}x)`,
    );
  const names = {
    direct: 'direct (req/s, median)',
    guard: 'port guard on',
    pasta: 'namespace + pasta',
  };
  process.stdout.write(
    [
      `| wrk, 8 connections, ${SECONDS} s × ${ROUNDS} rounds | ${variants.map((v) => names[v]).join(' | ')} |`,
      `|---|${variants.map(() => '---').join('|')}|`,
      `| a new connection per request | ${cells('close').join(' | ')} |`,
      `| keep-alive | ${cells('keep').join(' | ')} |`,
      '',
    ].join('\n'),
  );
}

main().catch((err: Error) => {
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
});
