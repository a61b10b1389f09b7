/**
 * Goals 1, 2 and the proxy half of 4: the hop stack is started once; memory of each hop
 * process is read after a warm-up (cold), the HTTP and WebSocket rounds run (the load
 * burst), and memory is read again after an idle wait.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { measureHttp, measureWs, type HopSettings, type HttpFigure, type WsFigure } from './hop.js';
import { startHopStack, type HopPath } from './hop-stack.js';
import { memoryOf, Processes, type Memory } from './procs.js';
import type { RunContext } from './run-context.js';

export interface HopMemory {
  name: string;
  cold: Memory;
  afterLoad: Memory;
}

export interface HopReport {
  settings: HopSettings;
  paths: { key: string; label: string }[];
  jsp: { available: boolean; reason: string | null };
  http: HttpFigure[];
  ws: WsFigure[];
  memory: HopMemory[];
  /** Seconds between the end of the load and the afterLoad reading. */
  idleWaitS: number;
  /** Token checks hubapps-proxy sent to the service during the whole run. */
  tokenChecks: number;
}

export interface HopOptions extends HopSettings {
  idleWaitS: number;
  withToken: boolean;
  withJsp: boolean;
  warmupRequests: number;
}

export async function runHopSection(opts: HopOptions, ctx: RunContext): Promise<HopReport> {
  const note = ctx.note;
  const procs = new Processes();
  const forget = ctx.onAbort(() => procs.stopAll());
  const stack = await startHopStack(procs, { withToken: opts.withToken, withJsp: opts.withJsp });
  const forgetStack = ctx.onAbort(() => stack.stop());
  try {
    note(
      `hop stack up: ${stack.paths.map((p) => p.key).join(', ')}${stack.jsp.available ? '' : ` (jupyter-server-proxy: ${stack.jsp.reason})`}`,
    );
    const direct = stack.paths.find((p) => p.key === 'direct')!;
    const hops: [string, number | undefined][] = [
      ['hubapps-proxy', stack.hops.proxy.pid],
      ['hubapps-proxy on a unix socket', stack.hops.unixProxy.pid],
      ['bare http-proxy-3 hop', stack.hops.bare.pid],
      ['jupyter-server-proxy standalone', stack.hops.jsp?.pid],
      ['the tiny app (a Node HTTP server with ws: the floor)', direct.cpuPids[0]],
    ];
    const live = hops.filter((h): h is [string, number] => h[1] !== undefined);
    for (const p of stack.paths) await warmUp(p, opts.warmupRequests);
    await sleep(1000);
    const cold = new Map(live.map(([name, pid]) => [name, memoryOf(pid)]));
    const http = await measureHttp(stack.paths, opts, note);
    const ws = await measureWs(stack.paths, opts, note);
    note(`idle ${opts.idleWaitS} s before reading memory again`);
    await sleep(opts.idleWaitS * 1000);
    const memory = live.map(([name, pid]) => ({
      name,
      cold: cold.get(name)!,
      afterLoad: memoryOf(pid),
    }));
    return {
      settings: { ...opts },
      paths: stack.paths.map((p) => ({ key: p.key, label: p.label })),
      jsp: stack.jsp,
      http,
      ws,
      memory,
      idleWaitS: opts.idleWaitS,
      tokenChecks: stack.tokenChecks(),
    };
  } finally {
    await stack.stop();
    forgetStack();
    forget();
  }
}

/** Sequential requests, so every process on the path has served some before memory is read. */
async function warmUp(path: HopPath, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const res = await fetch(path.url, { headers: path.headers });
    await res.arrayBuffer();
    if (res.status !== 200)
      throw new Error(`${path.label} answered ${res.status} during the warm-up`);
  }
}
