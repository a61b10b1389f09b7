/**
 * Goal 3: start latency through real sudo, as production runs it. The system-test stack
 * (test/system/system-stack.ts) provides it: test accounts hubapps-t-*, the proxy and the
 * service installed root-owned, the sudoers rule, a real CHP, `hubapps serve` as
 * hubapps-t-svc. Each start is timed from the POST to the app's first answer through CHP,
 * following the progress stream as the launcher page does, and broken down from the
 * service's events and the proxy's log. Needs root; tears everything down afterwards.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { run } from '../test/system/harness-exec.js';
import { TEST_USERS, installCatalog, sudoAsService } from '../test/system/harness.js';
import { SystemStack } from '../test/system/system-stack.js';
import { ApiClient, firstAnswer } from './api-client.js';
import { INSTANT_APP_BODY, instantApp, instantAppStartupMs } from './instant-app.js';
import { timelineOf, TIMELINE_PARTS, type SpawnTimeline } from './spawn-timeline.js';
import type { RunContext } from './run-context.js';
import { measureStartCost, type StartCostFigure } from './start-cost.js';
import { machineCpuMs } from './procs.js';
import { median, percentile } from './stats.js';

export interface Spread {
  p50: number;
  p95: number;
}

export interface SpawnStats {
  n: number;
  total: Spread;
  /** total minus the app's own start-up (SpawnReport.appStartupMs). */
  withoutApp: Spread;
  parts: Record<string, Spread>;
  samples: SpawnTimeline[];
}

export interface SpawnReport {
  skipped: string | null;
  setupS: number;
  /** The instant app's own start-up when run directly, ms (median). */
  appStartupMs: number;
  sequential: SpawnStats | null;
  concurrent: (SpawnStats & { wallMs: number }) | null;
  /** CPU time of the whole machine per start (all cores, ms): median of the sequential starts, and the concurrent ones' total / n. */
  cpuPerStart: { sequentialMs: number; concurrentMs: number } | null;
  /** A larger burst of concurrent starts: do they all succeed? */
  burst: { n: number; succeeded: number; wallMs: number; failures: string[] } | null;
  /** DELETE of a running server, answered once it is stopped (sequential runs). */
  stop: Spread | null;
  /** Where a proxy start's time and CPU go, without sudo (start-cost.ts). */
  startCost: StartCostFigure[] | null;
  /** Medians of the proxy's 'version' op as the service user, with and without `sudo -n -u USER`. */
  sudo: { withSudoMs: number; withoutSudoMs: number; n: number } | null;
}

const USER = TEST_USERS.alice;

export async function runSpawnSection(
  opts: { sequential: number; concurrent: number; burst: number; sudoRuns: number },
  ctx: RunContext,
): Promise<SpawnReport> {
  const note = ctx.note;
  const none = (skipped: string): SpawnReport => ({
    skipped,
    setupS: 0,
    appStartupMs: Number.NaN,
    sequential: null,
    concurrent: null,
    cpuPerStart: null,
    burst: null,
    stop: null,
    sudo: null,
    startCost: null,
  });
  if (process.getuid?.() !== 0)
    return none('needs root (test accounts, sudoers rule, root-owned installation)');
  const busy = await testAccountsBusy();
  if (busy)
    return none(`the hubapps-t-* test accounts are in use (${busy}): system tests running?`);
  const stack = new SystemStack();
  const forget = ctx.onAbort(() => stack.tearDown());
  const t0 = performance.now();
  try {
    await stack.setUp();
    await installCatalog(stack.installed!.catalogDir, { instant: instantApp() });
    await reconfigure(stack);
    const setupS = (performance.now() - t0) / 1000;
    note(`sudo stack up in ${setupS.toFixed(1)} s`);
    const api = new ApiClient(stack.apiUrl, stack.adminToken);
    await startOne(stack, api, 'warm-up');
    await api.call('DELETE', `/users/${USER}/servers/warm-up`);
    const seq: SpawnTimeline[] = [];
    const stops: number[] = [];
    const seqCpu: number[] = [];
    for (let i = 0; i < opts.sequential; i++) {
      const cpu0 = machineCpuMs();
      seq.push(await startOne(stack, api, `seq-${i}`));
      seqCpu.push(machineCpuMs() - cpu0);
      stops.push((await api.call('DELETE', `/users/${USER}/servers/seq-${i}`)).ms);
    }
    note(`${opts.sequential} sequential starts done`);
    const names = Array.from({ length: opts.concurrent }, (_, i) => `con-${i}`);
    const w0 = performance.now();
    const conCpu0 = machineCpuMs();
    const con = await Promise.all(names.map((n) => startOne(stack, api, n)));
    const conCpuMs = machineCpuMs() - conCpu0;
    const wallMs = performance.now() - w0;
    await Promise.all(names.map((n) => api.call('DELETE', `/users/${USER}/servers/${n}`)));
    note(`${opts.concurrent} concurrent starts done`);
    const burst = await startBurst(stack, api, opts.burst);
    note(`${opts.burst} concurrent starts: ${burst.succeeded} succeeded`);
    const sudo = await sudoCost(stack, opts.sudoRuns);
    const app = await instantAppStartupMs(opts.sudoRuns);
    const startCost = await measureStartCost(opts.sudoRuns);
    return {
      skipped: null,
      setupS,
      appStartupMs: app,
      sequential: stats(seq, app),
      concurrent: { ...stats(con, app), wallMs },
      cpuPerStart: { sequentialMs: median(seqCpu), concurrentMs: conCpuMs / opts.concurrent },
      burst,
      stop: spread(stops),
      sudo,
      startCost,
    };
  } finally {
    await stack.tearDown();
    forget();
  }
}

async function startBurst(
  stack: SystemStack,
  api: ApiClient,
  n: number,
): Promise<NonNullable<SpawnReport['burst']>> {
  const names = Array.from({ length: n }, (_, i) => `burst-${i}`);
  const w0 = performance.now();
  const results = await Promise.allSettled(names.map((name) => startOne(stack, api, name)));
  const wallMs = performance.now() - w0;
  await Promise.all(names.map((name) => api.call('DELETE', `/users/${USER}/servers/${name}`)));
  const failures = results.flatMap((r) =>
    r.status === 'rejected' ? [String((r.reason as Error).message ?? r.reason)] : [],
  );
  return { n, succeeded: n - failures.length, wallMs, failures };
}

async function startOne(stack: SystemStack, api: ApiClient, name: string): Promise<SpawnTimeline> {
  const postedAt = Date.now();
  await api.start(USER, name, 'instant');
  const settled = await api.settled(USER, name);
  if (settled.state !== 'running')
    throw new Error(`${USER}/${name} ended ${settled.state}: ${settled.reason}`);
  await firstAnswer(
    `${stack.chp!.proxyUrl}/apps/${USER}/${name}/`,
    { authorization: `token ${stack.adminToken}` },
    INSTANT_APP_BODY,
  );
  return timelineOf(stack.dbFile, USER, name, postedAt, Date.now());
}

/** Production defaults where the test stack differs (reconcile every 10 s), no per-user limit; then restart the service. */
async function reconfigure(stack: SystemStack): Promise<void> {
  const file = stack.configPath;
  const config = parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  writeFileSync(
    file,
    stringify({
      ...config,
      reconcile_interval: 10,
      limits: { servers_per_user: 0, servers_total: 0, streams_per_user: 0 },
    }),
  );
  await stack.service!.stop();
  await stack.startService();
}

/**
 * The proxy's 'version' op as alice, through the service's `sudo -n -u alice` and through
 * root's `runuser` (no sudo policy, same account): the difference is sudo's cost. The
 * proxy refuses to run as the service user itself (below min_uid), so that is no baseline.
 */
async function sudoCost(stack: SystemStack, runs: number): Promise<SpawnReport['sudo']> {
  const input = `${JSON.stringify({ op: 'version', version: 1 })}\n`;
  const proxy = stack.installed!.proxyPath;
  const withSudo: number[] = [];
  const without: number[] = [];
  for (let i = 0; i < runs; i++) {
    let t = performance.now();
    const a = await sudoAsService(USER, proxy, { input });
    withSudo.push(performance.now() - t);
    t = performance.now();
    const b = await run('runuser', ['-u', USER, '--', proxy], { input });
    without.push(performance.now() - t);
    if (a.code !== 0 || b.code !== 0)
      throw new Error(`the version op failed: ${a.stderr}${b.stderr}`);
  }
  return { withSudoMs: median(withSudo), withoutSudoMs: median(without), n: runs };
}

/** Whoever runs as a test account right now (a system test run), or null. */
async function testAccountsBusy(): Promise<string | null> {
  const users: string[] = [];
  for (const u of Object.values(TEST_USERS))
    if ((await run('getent', ['passwd', u])).code === 0) users.push(u);
  if (users.length === 0) return null;
  const list = users.join(',');
  const pids =
    `${(await run('pgrep', ['-u', list])).stdout}${(await run('pgrep', ['-U', list])).stdout}`.trim();
  return pids ? `processes ${pids.split('\n').join(', ')}` : null;
}

function spread(values: number[]): Spread {
  return { p50: percentile(values, 50), p95: percentile(values, 95) };
}

function stats(samples: SpawnTimeline[], appStartupMs: number): SpawnStats {
  const parts: Record<string, Spread> = {};
  for (const p of TIMELINE_PARTS) parts[p] = spread(samples.map((s) => s[p]));
  return {
    n: samples.length,
    total: spread(samples.map((s) => s.total)),
    withoutApp: spread(samples.map((s) => s.total - appStartupMs)),
    parts,
    samples,
  };
}
