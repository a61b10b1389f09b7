/**
 * Goals 4 (service half) and 5: N servers of the instant app started through the API with
 * the local launcher (servers run as this user, no sudo: on two cores this measures the
 * service, not sudo), then API latency with all of them running, reconcile passes, the
 * service's memory, and a kill -9 of the service followed by a fresh start until every
 * server is re-adopted.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { compileCatalog } from '../src/catalog/compile.js';
import { startChp, type RunningChp } from '../src/chp/chp-process.js';
import { freePort } from '../src/net/ports.js';
import { ApiClient } from './api-client.js';
import { instantApp } from './instant-app.js';
import { memoryOf, Processes, type Memory } from './procs.js';
import {
  measureApi,
  measureList,
  measureReconcile,
  proxyPids,
  startCpuWindow,
  type ApiLatency,
  type IdleCpu,
  type ReconcileFigure,
  type Spread,
} from './scale-measure.js';
import { killLeftovers, restartAndAdopt, type Restart } from './scale-restart.js';
import type { RunContext } from './run-context.js';
import { stopAllServers, type StopAll } from './scale-stop.js';
import { startService, type ServiceLog } from './service-process.js';

export interface ScaleSettings {
  servers: number;
  /** The proxies' memory is also summed when this many servers run (the issue asks for 200 and 1,000). */
  memoryAt: number;
  startBatch: number;
  listCalls: number;
  startStopCalls: number;
  reconcileWaitS: number;
  /** The production default (10 s) in the full run, so API latency is measured among passes as often as in production; 2 s with --quick, so that passes happen at all. */
  reconcileIntervalS: number;
}

export interface ScaleReport {
  servers: number;
  /** Seconds to start all servers, in batches of startBatch awaited until running. */
  rampS: number;
  serviceMemory: { idle: Memory; loaded: Memory; afterRestart: Memory | null };
  /** The idle hubapps-proxy processes, summed (MB): at memoryAt servers, and with all of them. */
  proxiesMemory: ProxiesMemory[];
  /** The same calls with no server yet: the baseline of the latency figures. */
  emptyList: Spread;
  api: ApiLatency;
  /** CPU of the service and of all proxies together while every server runs idle. */
  idleCpu: IdleCpu;
  stopAll: StopAll;
  reconcile: ReconcileFigure;
  restart: Restart;
  reconcileIntervalS: number;
}

export interface ScaleEnv {
  procs: Processes;
  chp: RunningChp;
  chpToken: string;
  dir: string;
  configFile: string;
  env: NodeJS.ProcessEnv;
  healthUrl: string;
  api: ApiClient;
  log: ServiceLog;
}

export async function runScaleSection(s: ScaleSettings, ctx: RunContext): Promise<ScaleReport> {
  const note = ctx.note;
  const procs = new Processes();
  const dir = await mkdtemp(join(tmpdir(), 'hubapps-bench-scale-'));
  const chpToken = randomBytes(18).toString('base64url');
  const chp = await startChp({ authToken: chpToken });
  let env: ScaleEnv | null = null;
  const cleanup = async () => {
    await procs.stopAll();
    if (env) await killLeftovers(env);
    await chp.stop();
    await rm(dir, { recursive: true, force: true });
  };
  const forget = ctx.onAbort(cleanup);
  try {
    env = await prepare(procs, chp, chpToken, dir, s.reconcileIntervalS);
    let service = await startService(procs, env.configFile, env.env, env.healthUrl, env.log);
    await env.api.call('GET', '/users');
    await sleep(1000);
    const idle = memoryOf(service.pid);
    const emptyList = await measureList(env.api, Math.ceil(s.listCalls / 4));
    const proxiesMemory: ProxiesMemory[] = [];
    const t0 = performance.now();
    await startServers(env.api, s.servers, s.startBatch, note, (running) => {
      if (running === s.memoryAt) proxiesMemory.push(proxiesOf(service.pid));
    });
    const rampS = (performance.now() - t0) / 1000;
    note(`${s.servers} servers running after ${rampS.toFixed(1)} s`);
    const api = await measureApi(env.api, s);
    const window = startCpuWindow(service.pid);
    const reconcile = await measureReconcile(env, s.reconcileWaitS);
    const idleCpu = window.end();
    const loaded = memoryOf(service.pid);
    if (s.memoryAt !== s.servers) proxiesMemory.push(proxiesOf(service.pid));
    const restarted = await restartAndAdopt(env, service, s.servers, note);
    service = restarted.service;
    await sleep(1000);
    const afterRestart = memoryOf(service.pid);
    const stopAll = await stopAllServers(env);
    note(
      `${stopAll.stopped} servers stopped in ${stopAll.seconds.toFixed(1)} s; left: ${stopAll.rowsLeft} rows, ${stopAll.processesLeft} processes, ${stopAll.routesLeft} routes`,
    );
    return {
      servers: s.servers,
      rampS,
      serviceMemory: { idle, loaded, afterRestart },
      proxiesMemory,
      emptyList,
      api,
      idleCpu,
      reconcile,
      restart: restarted.figure,
      stopAll,
      reconcileIntervalS: s.reconcileIntervalS,
    };
  } finally {
    await cleanup();
    forget();
  }
}

export interface ProxiesMemory {
  count: number;
  pss: number;
  rss: number;
}

/** The service's hubapps-proxy children (the local launcher starts them), their memory summed. */
function proxiesOf(servicePid: number): ProxiesMemory {
  const mems = proxyPids(servicePid).map((pid) => memoryOf(pid));
  return {
    count: mems.length,
    pss: mems.reduce((a, m) => a + m.pss, 0),
    rss: mems.reduce((a, m) => a + m.rss, 0),
  };
}

async function prepare(
  procs: Processes,
  chp: RunningChp,
  chpToken: string,
  dir: string,
  reconcileIntervalS: number,
): Promise<ScaleEnv> {
  const catalog = join(dir, 'apps.d');
  await mkdir(catalog);
  await writeFile(join(catalog, 'instant.yaml'), stringify(instantApp()));
  compileCatalog(catalog);
  const port = await freePort('127.0.0.1');
  const adminToken = randomBytes(24).toString('base64url');
  const config = {
    public_url: chp.proxyUrl,
    listen: { host: '127.0.0.1', port },
    data_dir: join(dir, 'data'),
    log_dir: join(dir, 'logs'),
    catalog_dir: catalog,
    launcher: 'local',
    admin_token: 'env:HUBAPPS_BENCH_ADMIN_TOKEN',
    chp: { api_url: chp.apiUrl, auth_token: 'env:HUBAPPS_BENCH_CHP_TOKEN' },
    reconcile_interval: reconcileIntervalS,
    stop_grace: 1,
    limits: { servers_per_user: 0, servers_total: 0, streams_per_user: 0 },
    log_level: 'info',
  };
  const configFile = join(dir, 'hubapps.yaml');
  await writeFile(configFile, stringify(config));
  const apiBase = `http://127.0.0.1:${port}/services/hubapps/api`;
  return {
    procs,
    chp,
    chpToken,
    dir,
    configFile,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      LANG: 'C.UTF-8',
      HUBAPPS_BENCH_ADMIN_TOKEN: adminToken,
      HUBAPPS_BENCH_CHP_TOKEN: chpToken,
    },
    healthUrl: `${apiBase}/health`,
    api: new ApiClient(apiBase, adminToken),
    log: { lines: [] },
  };
}

/** User and server name of the i-th benchmark server: 10 servers per user. */
export function serverName(i: number): { user: string; name: string } {
  return { user: `bench-u${String(Math.floor(i / 10)).padStart(3, '0')}`, name: `s${i % 10}` };
}

async function startServers(
  api: ApiClient,
  n: number,
  batch: number,
  note: (line: string) => void,
  onRunning: (running: number) => void,
): Promise<void> {
  for (let i = 0; i < n; i += batch) {
    const names = Array.from({ length: Math.min(batch, n - i) }, (_, k) => serverName(i + k));
    await Promise.all(names.map((s) => api.start(s.user, s.name, 'instant')));
    const states = await Promise.all(names.map((s) => api.settled(s.user, s.name, 60_000)));
    const bad = states.find((st) => st.state !== 'running');
    if (bad) throw new Error(`a server ended ${bad.state}: ${bad.reason}`);
    onRunning(i + names.length);
    if ((i / batch) % 5 === 4) note(`${i + names.length} servers running`);
  }
}
