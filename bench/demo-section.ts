/**
 * What a user of `npm run demo` waits for. The demo as the README starts it (its own
 * process: two CHPs, the service with the local launcher, its catalog compiled, per-server
 * origins); its "hello" app (Node) started `starts` times in a row, each timed from the
 * POST to the first byte of hello's page through the apps CHP, polled every 5 ms (the app's
 * host answers the not-running page until the route is there). Beside it, in the same run,
 * hello's own start-up: started directly, its page asked for every millisecond. hubapps'
 * share is the difference of the two medians; the demo's own records (its events and each
 * server's log, spawn-timeline.ts) say where a start's time goes. No root needed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdir, readlink } from 'node:fs/promises';
import http from 'node:http';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { freePort } from '../src/net/ports.js';
import type { RunContext } from './run-context.js';
import { timelineOf, TIMELINE_PARTS, type SpawnTimeline } from './spawn-timeline.js';
import { percentile } from './stats.js';

export interface DemoReport {
  n: number;
  /** p50 of each part of a start (spawn-timeline.ts), from the demo's own records. */
  parts: Record<string, number>;
  /** POST -> first byte of hello through the apps CHP, ms. */
  total: { p50: number; p95: number };
  /** hello started directly until its page answers, ms. */
  app: { p50: number; p95: number };
  /** total p50 - app p50. */
  shareMs: number;
}

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const HELLO = join(REPO, 'demo', 'apps', 'hello.mjs');
const TOKEN = 'bench-demo-token-0123456789abcdef';

export async function runDemoSection(
  opts: { starts: number },
  ctx: RunContext,
): Promise<DemoReport> {
  const [port, appsPort] = [await freePort('127.0.0.1'), await freePort('127.0.0.1')];
  const demo = await startDemo(port, appsPort);
  const forget = ctx.onAbort(() => stopDemo(demo));
  try {
    // The demo's user: whoever runs it, as src/demo/main.ts names it.
    const user = userInfo().username.replace(/[^A-Za-z0-9_.-]/g, '') || 'demo';
    const api = `http://127.0.0.1:${port}/services/hubapps/api/users/${user}/servers`;
    const totals: number[] = [];
    const timelines: SpawnTimeline[] = [];
    const db = await openDatabaseOf(demo.pid!);
    const epoch = Date.now() - performance.now();
    for (let i = 0; i < opts.starts; i++) {
      const name = `bench${i}`;
      const t0 = performance.now();
      const res = await fetch(`${api}/${name}`, {
        method: 'POST',
        headers: { authorization: `token ${TOKEN}`, 'content-type': 'application/json' },
        body: '{"app":"hello"}',
      });
      if (res.status !== 202)
        throw new Error(`the demo refused start ${i}: ${res.status} ${await res.text()}`);
      await res.body?.cancel();
      const answered = await firstByte(appsPort, `${name}--${user}.apps.localhost:${appsPort}`, t0);
      totals.push(answered - t0);
      timelines.push(timelineOf(db, user, name, epoch + t0, epoch + answered));
      const stop = await fetch(`${api}/${name}`, {
        method: 'DELETE',
        headers: { authorization: `token ${TOKEN}` },
      });
      await stop.body?.cancel();
    }
    ctx.note(`demo: ${opts.starts} starts of hello done`);
    const alone: number[] = [];
    for (let i = 0; i < opts.starts; i++) alone.push(await helloAloneMs());
    const total = { p50: percentile(totals, 50), p95: percentile(totals, 95) };
    const app = { p50: percentile(alone, 50), p95: percentile(alone, 95) };
    const parts = Object.fromEntries(
      TIMELINE_PARTS.map((p) => [
        p,
        percentile(
          timelines.map((t) => t[p]),
          50,
        ),
      ]),
    );
    return { n: opts.starts, parts, total, app, shareMs: total.p50 - app.p50 };
  } finally {
    forget();
    await stopDemo(demo);
  }
}

async function startDemo(port: number, appsPort: number): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      join(REPO, 'dist', 'src', 'demo', 'main.js'),
      '--port',
      String(port),
      '--apps-port',
      String(appsPort),
    ],
    {
      env: { ...process.env, HUBAPPS_DEMO_TOKEN: TOKEN },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  for (const until = Date.now() + 30_000; !out.includes('Press Ctrl-C'); await sleep(50)) {
    if (child.exitCode !== null || Date.now() > until) {
      child.kill('SIGKILL');
      throw new Error(`the demo did not start: ${out.slice(-2000)}`);
    }
  }
  if (out.includes('was not compiled')) throw new Error('the demo left its catalog uncompiled');
  return child;
}

/** The demo's SQLite file, found among the files its process holds open (it lives in the demo's scratch directory). */
async function openDatabaseOf(pid: number): Promise<string> {
  for (const fd of await readdir(`/proc/${pid}/fd`)) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    if (target.endsWith('/hubapps.sqlite')) return target;
  }
  throw new Error(`the demo (pid ${pid}) holds no hubapps.sqlite open`);
}

/** SIGTERM: the demo stops its servers, the service and both CHPs, and removes its scratch directory. */
async function stopDemo(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
}

/** When the app's page first answers 200 through the apps CHP (the status line is its first byte). */
async function firstByte(port: number, host: string, t0: number): Promise<number> {
  for (;;) {
    const at = await get(port, host, `token ${TOKEN}`);
    if (at !== null) return at;
    if (performance.now() - t0 > 30_000) throw new Error(`${host} did not answer within 30 s`);
    await sleep(5);
  }
}

/** The time the answer's first byte came in when it is a 200, else null. */
function get(port: number, host: string, authorization?: string): Promise<number | null> {
  return new Promise((resolve) => {
    const req = http.get(
      {
        host: '127.0.0.1',
        port,
        path: '/',
        headers: { host, ...(authorization ? { authorization } : {}) },
        agent: false,
      },
      (res) => {
        const at = performance.now();
        res.resume();
        resolve(res.statusCode === 200 ? at : null);
      },
    );
    req.once('error', () => resolve(null));
  });
}

/** hello run directly, as the proxy would run it, until its page answers. */
async function helloAloneMs(): Promise<number> {
  const port = await freePort('127.0.0.1');
  const t0 = performance.now();
  const child = spawn(process.execPath, [HELLO, String(port)], { stdio: 'ignore' });
  try {
    for (;;) {
      const at = await get(port, `127.0.0.1:${port}`);
      if (at !== null) return at - t0;
      if (performance.now() - t0 > 10_000) throw new Error('hello did not answer within 10 s');
      await sleep(1);
    }
  } finally {
    child.kill('SIGKILL');
  }
}
