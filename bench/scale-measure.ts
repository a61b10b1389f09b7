/**
 * What the scale benchmark measures while every server runs: API latency (listing one
 * user, listing everyone, start and stop) and reconcile passes, read from the service's
 * Prometheus histogram hubapps_reconcile_duration_seconds.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ApiClient } from './api-client.js';
import { PROXY_MAIN } from './hop-stack.js';
import { cpuMs, descendants } from './procs.js';
import type { ScaleEnv, ScaleSettings } from './scale-section.js';
import { serverName } from './scale-section.js';
import { percentile } from './stats.js';

export interface Spread {
  p50: number;
  p95: number;
  n: number;
}

export interface ApiLatency {
  /** GET /users/USER (10 servers each). */
  listUser: Spread;
  /** GET /users (every server). */
  listAll: Spread;
  /** POST /users/U/servers/N: answered 202 once the proxy is spawned. */
  start: Spread;
  /** POST until the progress stream says running. */
  startToRunning: Spread;
  /** DELETE: answered once the server has stopped. */
  stop: Spread;
}

export interface ReconcileFigure {
  /** Passes inside the observation window. */
  passes: number;
  /** Mean duration of those passes, ms. */
  meanMs: number;
  /** Upper bound of the slowest pass: the smallest histogram bucket holding all of them, ms. */
  maxBoundMs: number;
}

function spread(values: number[]): Spread {
  return { p50: percentile(values, 50), p95: percentile(values, 95), n: values.length };
}

export async function measureApi(api: ApiClient, s: ScaleSettings): Promise<ApiLatency> {
  const users = Math.max(1, Math.ceil(s.servers / 10));
  const listUser: number[] = [];
  const listAll: number[] = [];
  for (let i = 0; i < s.listCalls; i++) {
    listUser.push(ok(await api.call('GET', `/users/${serverName((i % users) * 10).user}`)).ms);
    listAll.push(ok(await api.call('GET', '/users')).ms);
  }
  const start: number[] = [];
  const startToRunning: number[] = [];
  const stop: number[] = [];
  for (let i = 0; i < s.startStopCalls; i++) {
    const t0 = performance.now();
    start.push((await api.start('bench-extra', `x${i}`, 'instant')).ms);
    const settled = await api.settled('bench-extra', `x${i}`);
    if (settled.state !== 'running')
      throw new Error(`bench-extra/x${i} ended ${settled.state}: ${settled.reason}`);
    startToRunning.push(performance.now() - t0);
    stop.push(ok(await api.call('DELETE', `/users/bench-extra/servers/x${i}`)).ms);
  }
  return {
    listUser: spread(listUser),
    listAll: spread(listAll),
    start: spread(start),
    startToRunning: spread(startToRunning),
    stop: spread(stop),
  };
}

/** GET /users `n` times: with no server yet, the baseline of the listing figures. */
export async function measureList(api: ApiClient, n: number): Promise<Spread> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) ms.push(ok(await api.call('GET', '/users')).ms);
  return spread(ms);
}

export interface IdleCpu {
  seconds: number;
  /** CPU the service used in the window, as % of one core. */
  servicePct: number;
  /** CPU all proxies used together in the window, as % of one core. */
  proxiesPct: number;
  proxies: number;
}

/** The service's hubapps-proxy children (the local launcher starts them). */
export function proxyPids(servicePid: number): number[] {
  return descendants(servicePid).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(PROXY_MAIN);
    } catch {
      return false;
    }
  });
}

/** Reads the CPU time of the service and its proxies now; end() reads it again. */
export function startCpuWindow(servicePid: number): { end(): IdleCpu } {
  const proxies = proxyPids(servicePid);
  const total = () => proxies.reduce((sum, pid) => sum + cpuMs(pid), 0);
  const t0 = performance.now();
  const service0 = cpuMs(servicePid);
  const proxies0 = total();
  return {
    end: () => {
      const ms = performance.now() - t0;
      return {
        seconds: ms / 1000,
        servicePct: ((cpuMs(servicePid) - service0) / ms) * 100,
        proxiesPct: ((total() - proxies0) / ms) * 100,
        proxies: proxies.length,
      };
    },
  };
}

function ok<T extends { status: number; body: unknown }>(r: T): T {
  if (r.status !== 200) throw new Error(`the API answered ${r.status}: ${JSON.stringify(r.body)}`);
  return r;
}

interface Histogram {
  sum: number;
  count: number;
  buckets: Map<number, number>;
}

async function scrape(env: ScaleEnv): Promise<Histogram> {
  const url = env.api.base.replace(/api$/, 'metrics');
  const r = await fetch(url, {
    headers: { authorization: `token ${env.env.HUBAPPS_BENCH_ADMIN_TOKEN}` },
  });
  const text = await r.text();
  if (r.status !== 200) throw new Error(`${url} answered ${r.status}`);
  const value = (re: RegExp) => Number(re.exec(text)?.[1] ?? Number.NaN);
  const buckets = new Map<number, number>();
  for (const m of text.matchAll(
    /^hubapps_reconcile_duration_seconds_bucket\{le="([^"]+)"\} (\S+)$/gm,
  )) {
    buckets.set(m[1] === '+Inf' ? Number.POSITIVE_INFINITY : Number(m[1]), Number(m[2]));
  }
  return {
    sum: value(/^hubapps_reconcile_duration_seconds_sum (\S+)$/m),
    count: value(/^hubapps_reconcile_duration_seconds_count (\S+)$/m),
    buckets,
  };
}

/** Scrape, let reconcile run for `waitS` with every server running, scrape again: the passes in between. */
export async function measureReconcile(env: ScaleEnv, waitS: number): Promise<ReconcileFigure> {
  const before = await scrape(env);
  await sleep(waitS * 1000);
  const after = await scrape(env);
  const passes = after.count - before.count;
  let maxBoundMs = Number.POSITIVE_INFINITY;
  for (const [le, n] of [...after.buckets].sort((a, b) => a[0] - b[0])) {
    if (n - (before.buckets.get(le) ?? 0) === passes) {
      maxBoundMs = le * 1000;
      break;
    }
  }
  return {
    passes,
    meanMs: passes > 0 ? ((after.sum - before.sum) * 1000) / passes : Number.NaN,
    maxBoundMs,
  };
}
