/**
 * Where a proxy start's time goes, without sudo (the spawn section measures sudo apart):
 * an empty node, hubapps-proxy as every launcher runs it (the CommonJS bundle with its V8
 * code cache) up to listening, and up to its app being ready, once with the compiled
 * catalog that `hubapps check-config` writes and once reading the YAML file (yaml and zod
 * in a worker); then the ways to start it that the cache is weighed against: the same
 * bundle without the cache, the ES module bundle, the separate modules tsc wrote
 * (scripts/bundle-proxy.ts), and Node's start-up snapshot where it can be built
 * (start-snapshot.ts). The variants take turns, so a busy moment of the machine weighs on
 * all of them. Wall time from the spawn and the process's CPU time (user + system, 10 ms
 * ticks) at that moment, medians of `runs` starts each.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { compileCatalog } from '../src/catalog/compile.js';
import { freePort } from '../src/net/ports.js';
import { BUNDLE_FILE } from '../src/proxy/code-cache.js';
import {
  PROXY_ESM_MAIN,
  PROXY_MAIN,
  PROXY_MODULES_MAIN,
  proxyArgs,
  proxyCommandLine,
  spawnCommand,
  type ProxyCommandLine,
} from '../src/proxy/command-line.js';
import { PROXY_NODE_FLAGS } from '../src/proxy/node-flags.js';
import { PROTOCOL_VERSION, type HealthReport, type StartRequest } from '../src/protocol/wire.js';
import { instantApp } from './instant-app.js';
import { cpuMs, type Child, Processes } from './procs.js';
import { buildProxySnapshot } from './start-snapshot.js';
import { median } from './stats.js';
import { signCall } from '../src/protocol/challenge.js';

export interface StartCostFigure {
  label: string;
  wallMs: number;
  cpuMs: number;
}

/** One way to start the proxy: its entry point, its catalog, and which of its figures the report shows. */
interface Variant {
  key: string;
  label: string;
  line: (args: string[]) => ProxyCommandLine;
  catalog: 'compiled' | 'yaml';
  /** Report spawn -> listening as well as spawn -> ready. */
  listening: boolean;
}

const entry = (main: string) => (args: string[]) => proxyCommandLine(args, { main });

const VARIANTS: Variant[] = [
  {
    key: 'cached',
    label: 'hubapps-proxy (CommonJS bundle with its V8 code cache, what every launcher runs)',
    line: entry(PROXY_MAIN),
    catalog: 'compiled',
    listening: true,
  },
  {
    key: 'yaml',
    label: 'hubapps-proxy reading the YAML (no compiled form)',
    line: entry(PROXY_MAIN),
    catalog: 'yaml',
    listening: false,
  },
  {
    key: 'uncached',
    label: 'the CommonJS bundle without the code cache',
    line: entry(join(dirname(PROXY_MAIN), BUNDLE_FILE)),
    catalog: 'compiled',
    listening: true,
  },
  {
    key: 'esm',
    label: 'the ES module bundle, chunks loaded on demand (no code cache)',
    line: entry(PROXY_ESM_MAIN),
    catalog: 'compiled',
    listening: true,
  },
  {
    key: 'modules',
    label: 'separate modules (not bundled)',
    line: entry(PROXY_MODULES_MAIN),
    catalog: 'compiled',
    listening: true,
  },
];

export async function measureStartCost(runs: number): Promise<StartCostFigure[]> {
  const dir = await mkdtemp(join(tmpdir(), 'hubapps-bench-start-'));
  const procs = new Processes();
  try {
    const catalogs = { compiled: join(dir, 'compiled'), yaml: join(dir, 'yaml') };
    for (const d of Object.values(catalogs)) {
      await mkdir(d);
      await writeFile(join(d, 'instant.yaml'), stringify(instantApp()));
    }
    compileCatalog(catalogs.compiled);
    const snapshot = await buildProxySnapshot(dir);
    const all: Variant[] =
      'line' in snapshot
        ? [
            ...VARIANTS,
            {
              key: 'snapshot',
              label: "node's start-up snapshot of hubapps-proxy",
              line: snapshot.line,
              catalog: 'compiled',
              listening: true,
            },
          ]
        : VARIANTS;
    const empty: number[][] = [];
    const up = new Map<string, number[][]>(all.map((v) => [v.key, []]));
    const ready = new Map<string, number[][]>(all.map((v) => [v.key, []]));
    for (let i = 0; i < runs; i++) {
      empty.push(await emptyNode(procs));
      for (const v of all) {
        const [u, r] = await proxyStart(procs, v.line(proxyArgs(catalogs[v.catalog])));
        up.get(v.key)!.push(u!);
        ready.get(v.key)!.push(r!);
      }
    }
    const fig = (label: string, samples: number[][]): StartCostFigure => ({
      label,
      wallMs: median(samples.map((s) => s[0]!)),
      cpuMs: median(samples.map((s) => s[1]!)),
    });
    return [
      fig('node with an empty script (its own start-up)', empty),
      ...all.flatMap((v) => [
        ...(v.listening ? [fig(`${v.label}: spawn -> listening`, up.get(v.key)!)] : []),
        fig(`${v.label}: spawn -> app ready`, ready.get(v.key)!),
      ]),
      ...('failed' in snapshot
        ? [
            {
              label: `node's start-up snapshot of hubapps-proxy: not built (${snapshot.failed})`,
              wallMs: NaN,
              cpuMs: NaN,
            },
          ]
        : []),
    ];
  } finally {
    await procs.stopAll();
    await rm(dir, { recursive: true, force: true });
  }
}

/** [wall ms, CPU ms] of a node that has run an empty script, with the proxy's flags. */
async function emptyNode(procs: Processes): Promise<number[]> {
  let said = false;
  const t0 = performance.now();
  const child = procs.start(
    'empty node',
    process.execPath,
    [...PROXY_NODE_FLAGS, '-e', "process.stdout.write('up'); setInterval(() => {}, 1e6)"],
    { onOutput: () => (said = true) },
  );
  while (!said) await sleep(1);
  const sample = [performance.now() - t0, cpuMs(child.pid)];
  await child.stop();
  return sample;
}

/** [wall, CPU] at listening and [wall, CPU] at ready for one proxy start. */
async function proxyStart(procs: Processes, line: ProxyCommandLine): Promise<number[][]> {
  const port = await freePort('127.0.0.1');
  const secret = randomBytes(24).toString('hex');
  const spec: StartRequest = {
    op: 'start',
    version: PROTOCOL_VERSION,
    server: { id: 1, user: 'bench', name: 'start' },
    app: 'instant',
    options: {},
    port,
    secret,
    publicOrigin: 'http://127.0.0.1',
    allowedOrigins: [],
    prefix: '/apps/bench/start/',
    serviceUrl: 'http://127.0.0.1:9/services/hubapps/',
    stopGraceMs: 1000,
    readyTimeoutMs: 15_000,
    framing: { frames: 'server', popups: 'isolate' },
    logMaxBytes: 1 << 20,
  };
  const t0 = performance.now();
  const proxy = spawnCommand(line);
  const child = procs.start('hubapps-proxy', proxy.file, proxy.args, {
    stdin: `${JSON.stringify(spec)}\n`,
  });
  let listening: number[] | null = null;
  try {
    while (performance.now() - t0 < 20_000) {
      const report = await health(port, secret, child);
      if (report && !listening) listening = [performance.now() - t0, cpuMs(child.pid)];
      if (report?.state === 'ready')
        return [listening!, [performance.now() - t0, cpuMs(child.pid)]];
      await sleep(1);
    }
    throw new Error(`hubapps-proxy was not ready within 20 s; its output:\n${child.output()}`);
  } finally {
    await child.stop();
  }
}

async function health(port: number, secret: string, child: Child): Promise<HealthReport | null> {
  if (child.exited()) throw new Error(`hubapps-proxy exited; its output:\n${child.output()}`);
  try {
    const res = await fetch(`http://127.0.0.1:${port}/_hubapps/health`, {
      headers: { authorization: signCall(secret, 'GET', '/_hubapps/health').header },
    });
    return (await res.json()) as HealthReport;
  } catch {
    return null;
  }
}
