/**
 * The hop measurements: wrk over every path at 1 and 32 keep-alive connections, and the
 * WebSocket echo over every path, in rounds. Each round visits the paths in a rotated
 * order, so slow drift of the machine spreads over all paths; the figures are the medians
 * of the rounds.
 */
import type { HopPath, PathKey } from './hop-stack.js';
import { cpuMs, machineCpuMs } from './procs.js';
import { median } from './stats.js';
import { runWrk, type WrkResult } from './wrk.js';
import { runWsEcho, type WsResult } from './ws-bench.js';

export interface HopSettings {
  rounds: number;
  /** Seconds of wrk per path, connection count and round. */
  seconds: number;
  /** Seconds of WebSocket echo per path, mode and round. */
  wsSeconds: number;
  /** Seconds of wrk per path before the first round (JIT and connection pools warm up); 0: none. */
  warmSeconds: number;
  connections: number[];
  /** Connections for the WebSocket messages/s figure. */
  wsConnections: number;
}

export interface HttpFigure {
  path: PathKey;
  label: string;
  connections: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  /** CPU time of the path's server-side processes per request, µs (median of rounds). */
  cpuUs: number;
  /** The same for the hop process alone (0 for paths without a hop). */
  hopCpuUs: number;
  /** CPU time of the whole machine per request (/proc/stat; wrk's own included), µs. */
  machineCpuUs: number;
  rounds: (WrkResult & Cpu)[];
}

export interface WsFigure {
  path: PathKey;
  label: string;
  rttP50: number;
  rttP99: number;
  /** Echoes per second over one connection. */
  msgsPerS1: number;
  /** Echoes per second over wsConnections connections. */
  msgsPerSMany: number;
  /** CPU time of the path's server-side processes per echoed message in the many-connection run, µs. */
  cpuUs: number;
  hopCpuUs: number;
  /** The whole machine's CPU per echoed message (the bench's own client included), µs. */
  machineCpuUs: number;
  rounds: { one: WsResult; many: WsResult & Cpu }[];
}

interface Cpu {
  cpuUs: number;
  hopCpuUs: number;
  machineCpuUs: number;
}

/** Run `fn` and return its result with the CPU µs the path's processes (and its hop alone) spent per unit of `count`. */
async function withCpu<T>(
  p: HopPath,
  fn: () => Promise<T>,
  count: (r: T) => number,
): Promise<T & Cpu> {
  const total = (pids: readonly number[]) => pids.reduce((a, pid) => a + cpuMs(pid), 0);
  const before = total(p.cpuPids);
  const hopBefore = total(p.hopPids);
  const machineBefore = machineCpuMs();
  const r = await fn();
  const n = Math.max(1, count(r));
  return {
    ...r,
    cpuUs: ((total(p.cpuPids) - before) * 1000) / n,
    hopCpuUs: ((total(p.hopPids) - hopBefore) * 1000) / n,
    machineCpuUs: ((machineCpuMs() - machineBefore) * 1000) / n,
  };
}

function rotated<T>(items: readonly T[], by: number): T[] {
  const k = by % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

export async function measureHttp(
  paths: readonly HopPath[],
  s: HopSettings,
  note: (line: string) => void,
): Promise<HttpFigure[]> {
  if (s.warmSeconds > 0) {
    for (const p of paths)
      await runWrk(p.url, {
        connections: Math.max(...s.connections),
        seconds: s.warmSeconds,
        headers: p.headers,
      });
  }
  const results = new Map<string, (WrkResult & Cpu)[]>();
  for (let round = 0; round < s.rounds; round++) {
    for (const connections of s.connections) {
      for (const p of rotated(paths, round)) {
        const r = await withCpu(
          p,
          () => runWrk(p.url, { connections, seconds: s.seconds, headers: p.headers }),
          (x) => x.requests,
        );
        const key = `${p.key}/${connections}`;
        results.set(key, [...(results.get(key) ?? []), r]);
      }
    }
    note(`http round ${round + 1}/${s.rounds} done`);
  }
  const figures: HttpFigure[] = [];
  for (const connections of s.connections) {
    for (const p of paths) {
      const rounds = results.get(`${p.key}/${connections}`)!;
      figures.push({
        path: p.key,
        label: p.label,
        connections,
        rps: median(rounds.map((r) => r.rps)),
        p50: median(rounds.map((r) => r.p50)),
        p99: median(rounds.map((r) => r.p99)),
        errors: rounds.reduce((a, r) => a + r.errors, 0),
        cpuUs: median(rounds.map((r) => r.cpuUs)),
        hopCpuUs: median(rounds.map((r) => r.hopCpuUs)),
        machineCpuUs: median(rounds.map((r) => r.machineCpuUs)),
        rounds,
      });
    }
  }
  return figures;
}

export async function measureWs(
  paths: readonly HopPath[],
  s: HopSettings,
  note: (line: string) => void,
): Promise<WsFigure[]> {
  const results = new Map<PathKey, WsFigure['rounds']>();
  for (let round = 0; round < s.rounds; round++) {
    for (const p of rotated(paths, round)) {
      const one = await runWsEcho(p.wsUrl, {
        connections: 1,
        seconds: s.wsSeconds,
        headers: p.headers,
      });
      const many = await withCpu(
        p,
        () =>
          runWsEcho(p.wsUrl, {
            connections: s.wsConnections,
            seconds: s.wsSeconds,
            headers: p.headers,
          }),
        (x) => x.messages,
      );
      results.set(p.key, [...(results.get(p.key) ?? []), { one, many }]);
    }
    note(`websocket round ${round + 1}/${s.rounds} done`);
  }
  return paths.map((p) => {
    const rounds = results.get(p.key)!;
    return {
      path: p.key,
      label: p.label,
      rttP50: median(rounds.map((r) => r.one.p50)),
      rttP99: median(rounds.map((r) => r.one.p99)),
      msgsPerS1: median(rounds.map((r) => r.one.msgsPerS)),
      msgsPerSMany: median(rounds.map((r) => r.many.msgsPerS)),
      cpuUs: median(rounds.map((r) => r.many.cpuUs)),
      hopCpuUs: median(rounds.map((r) => r.many.hopCpuUs)),
      machineCpuUs: median(rounds.map((r) => r.many.machineCpuUs)),
      rounds,
    };
  });
}
