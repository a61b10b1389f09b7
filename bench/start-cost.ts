/**
 * Where a proxy start's time goes, without sudo (the spawn section measures sudo apart):
 * an empty node, hubapps-proxy up to listening, and up to its app being ready, once with
 * the compiled catalog that `hubapps check-config` writes and once reading the YAML file
 * (yaml and zod in a worker); and the bundle every launcher runs against the separate
 * modules tsc wrote (scripts/bundle-proxy.ts). Wall time from the spawn and the process's CPU time (user +
 * system, 10 ms ticks) at that moment, medians of `runs` starts each.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { compileCatalog } from '../src/catalog/compile.js';
import { freePort } from '../src/net/ports.js';
import {
  PROXY_MAIN,
  PROXY_MODULES_MAIN,
  proxyArgs,
  proxyCommandLine,
  spawnCommand,
} from '../src/proxy/command-line.js';
import { PROXY_NODE_FLAGS } from '../src/proxy/node-flags.js';
import { PROTOCOL_VERSION, type HealthReport, type StartRequest } from '../src/protocol/wire.js';
import { instantApp } from './instant-app.js';
import { cpuMs, type Child, Processes } from './procs.js';
import { median } from './stats.js';
import { signCall } from '../src/protocol/challenge.js';

export interface StartCostFigure {
  label: string;
  wallMs: number;
  cpuMs: number;
}

export async function measureStartCost(runs: number): Promise<StartCostFigure[]> {
  const dir = await mkdtemp(join(tmpdir(), 'hubapps-bench-start-'));
  const procs = new Processes();
  try {
    const compiled = join(dir, 'compiled');
    const yaml = join(dir, 'yaml');
    for (const d of [compiled, yaml]) {
      await mkdir(d);
      await writeFile(join(d, 'instant.yaml'), stringify(instantApp()));
    }
    compileCatalog(compiled);
    const empty: number[][] = [];
    const up: Record<string, number[][]> = { compiled: [], yaml: [], modules: [] };
    const ready: Record<string, number[][]> = { compiled: [], yaml: [], modules: [] };
    for (let i = 0; i < runs; i++) {
      empty.push(await emptyNode(procs));
      for (const [key, catalog, main] of [
        ['compiled', compiled, PROXY_MAIN],
        ['yaml', yaml, PROXY_MAIN],
        ['modules', compiled, PROXY_MODULES_MAIN],
      ] as const) {
        const [u, r] = await proxyStart(procs, catalog, main);
        up[key]!.push(u);
        ready[key]!.push(r);
      }
    }
    const fig = (label: string, samples: number[][]): StartCostFigure => ({
      label,
      wallMs: median(samples.map((s) => s[0]!)),
      cpuMs: median(samples.map((s) => s[1]!)),
    });
    return [
      fig('node with an empty script (its own start-up)', empty),
      fig('hubapps-proxy: spawn -> listening (health answers)', up.compiled!),
      fig('hubapps-proxy: spawn -> app ready, compiled catalog', ready.compiled!),
      fig('hubapps-proxy: spawn -> app ready, reading the YAML (no compiled form)', ready.yaml!),
      fig('hubapps-proxy from separate modules (not bundled): spawn -> listening', up.modules!),
      fig(
        'hubapps-proxy from separate modules: spawn -> app ready, compiled catalog',
        ready.modules!,
      ),
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
async function proxyStart(procs: Processes, catalog: string, main: string): Promise<number[][]> {
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
  const proxy = spawnCommand(proxyCommandLine(proxyArgs(catalog), { main }));
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
