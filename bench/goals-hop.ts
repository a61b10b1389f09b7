/**
 * The goals about the hop itself: issue 29's for the proxy as production runs it (on a unix
 * socket, CHP in front), the port guard's cost and the idle proxy's memory, and the earlier
 * TCP hop goals of issues 10 and 17, kept so a regression there still shows.
 */
import type { GuardReport } from './guard-section.js';
import type { HopReport } from './hop-section.js';
import type { HttpFigure } from './hop.js';
import type { PathKey } from './hop-stack.js';
import { n1, n2 } from './format.js';
import type { Goal } from './goal.js';
import { ratio } from './stats.js';

function http(hop: HopReport, path: PathKey, connections: number): HttpFigure | undefined {
  return hop.http.find((h) => h.path === path && h.connections === connections);
}

/** Issue 29, item 3: CHP -> hubapps-proxy on a unix socket -> app. */
export function unixHopGoals(hop: HopReport): Goal[] {
  const goals: Goal[] = [];
  const unix32 = http(hop, 'hubapps-unix', 32);
  const chp32 = http(hop, 'chp', 32);
  if (unix32 && chp32) {
    const r = ratio(unix32.rps, chp32.rps);
    goals.push({
      item: '29.3',
      goal: 'unix-socket hop req/s >= 0.8x CHP -> app (32 conn)',
      measured: `${n2(r)}x (${n1(unix32.rps)} vs ${n1(chp32.rps)} req/s)`,
      met: r >= 0.8,
    });
  }
  const chpWs = hop.ws.find((w) => w.path === 'chp');
  const unixWs = hop.ws.find((w) => w.path === 'hubapps-unix');
  if (chpWs && unixWs) {
    const r = ratio(unixWs.rttP50, chpWs.rttP50);
    goals.push({
      item: '29.3',
      goal: "unix-socket hop WebSocket RTT <= 1.4x CHP -> app's",
      measured: `${n2(r)}x (${unixWs.rttP50.toFixed(3)} vs ${chpWs.rttP50.toFixed(3)} ms, p50)`,
      met: r <= 1.4,
    });
  }
  for (const c of hop.settings.connections) {
    const unix = http(hop, 'hubapps-unix', c);
    const bare = http(hop, 'bare', c);
    if (!unix || !bare) continue;
    const r = ratio(unix.hopCpuUs, bare.hopCpuUs);
    goals.push({
      item: '29.3',
      goal: `unix-socket hop CPU per request <= 0.7x the bare http-proxy-3 hop's (${c} conn)`,
      measured: `${n2(r)}x (${n1(unix.hopCpuUs)} vs ${n1(bare.hopCpuUs)} µs)`,
      met: r <= 0.7,
    });
  }
  return goals;
}

/** Issue 29, item 3: the guard's added machine CPU per request against the hop's own. */
export function guardGoal(guard: GuardReport, hop: HopReport | undefined): Goal {
  const goal =
    "port guard's added CPU per request <= 10% of the hop's (a new connection per request)";
  if (guard.skipped)
    return { item: '29.3', goal, measured: `not measured: ${guard.skipped}`, met: null };
  const fig = (variant: string, mode: string) =>
    guard.figures.find((f) => f.variant === variant && f.mode === mode)?.machineCpuUs ?? Number.NaN;
  const added = fig('guard', 'close') - fig('direct', 'close');
  const addedKeep = fig('guard', 'keep') - fig('direct', 'keep');
  const hopCpu = hop ? http(hop, 'hubapps-unix', 1)?.hopCpuUs : undefined;
  if (hopCpu === undefined)
    return {
      item: '29.3',
      goal,
      measured: `added ${n1(added)} µs/request (keep-alive ${n1(addedKeep)}); the hop section did not run`,
      met: null,
    };
  const share = ratio(added, hopCpu);
  return {
    item: '29.3',
    goal,
    measured: `${(share * 100).toFixed(1)}% (${n1(added)} µs added vs the unix-socket hop's ${n1(hopCpu)} µs at 1 conn; keep-alive ${n1(addedKeep)} µs)`,
    met: share <= 0.1,
  };
}

/** Issue 29, item 4: the idle proxy as production runs it (unix socket). */
export function memoryGoals(hop: HopReport): Goal[] {
  const mem =
    hop.memory.find((m) => m.name === 'hubapps-proxy on a unix socket') ??
    hop.memory.find((m) => m.name === 'hubapps-proxy');
  const floor = hop.memory.find((m) => m.name.startsWith('the tiny app'));
  if (!mem) return [];
  const base = floor
    ? `; a Node HTTP server with ws in the same run: PSS ${n1(floor.cold.pss)}, RSS ${n1(floor.cold.rss)} MB`
    : '';
  return [
    {
      item: '29.4',
      goal: 'idle proxy PSS <= 15 MB, RSS <= 50 MB cold',
      measured: `PSS ${n1(mem.cold.pss)} MB, RSS ${n1(mem.cold.rss)} MB${base}`,
      met: mem.cold.pss <= 15 && mem.cold.rss <= 50,
    },
    {
      item: '29.4',
      goal: `idle proxy RSS <= 55 MB 30 s after load${hop.idleWaitS !== 30 ? ` (here ${hop.idleWaitS} s)` : ''}`,
      measured: `${n1(mem.afterLoad.rss)} MB (PSS ${n1(mem.afterLoad.pss)} MB)`,
      met: mem.afterLoad.rss <= 55,
    },
  ];
}

/** Issues 10 and 17: the proxy on TCP against CHP -> app, the bare hop and jupyter-server-proxy. */
export function tcpHopGoals(hop: HopReport): Goal[] {
  const goals: Goal[] = [];
  const limits: Record<number, { cpu: number; rps: number }> = {
    1: { cpu: 0.85, rps: 0.7 },
    32: { cpu: 0.7, rps: 0.9 },
  };
  for (const c of hop.settings.connections) {
    const chp = http(hop, 'chp', c)!;
    const hub = http(hop, 'hubapps', c)!;
    const bare = http(hop, 'bare', c)!;
    const limit = limits[c] ?? limits[32]!;
    const cpu = ratio(hub.hopCpuUs, bare.hopCpuUs);
    goals.push({
      item: '10',
      goal: `TCP hop CPU per request <= ${limit.cpu}x the bare http-proxy-3 hop's (${c} conn)`,
      measured: `${n2(cpu)}x (${n1(hub.hopCpuUs)} vs ${n1(bare.hopCpuUs)} µs)`,
      met: cpu <= limit.cpu,
    });
    const r = ratio(hub.rps, chp.rps);
    goals.push({
      item: '10',
      goal: `TCP hop req/s >= ${limit.rps}x CHP -> app (${c} conn)`,
      measured: `${n2(r)}x (${n1(hub.rps)} vs ${n1(chp.rps)}); bare hop ${n2(ratio(bare.rps, chp.rps))}x`,
      met: r >= limit.rps,
    });
    const jsp = http(hop, 'jsp', c);
    const jspGoal = `TCP hop CPU per request <= 0.2x jupyter-server-proxy's (${c} conn)`;
    goals.push(
      jsp
        ? {
            item: '17',
            goal: jspGoal,
            measured: `${n2(ratio(hub.hopCpuUs, jsp.hopCpuUs))}x (${n1(hub.hopCpuUs)} vs ${n1(jsp.hopCpuUs)} µs)`,
            met: ratio(hub.hopCpuUs, jsp.hopCpuUs) <= 0.2,
          }
        : { item: '17', goal: jspGoal, measured: `not measured: ${hop.jsp.reason}`, met: null },
    );
  }
  return goals;
}
