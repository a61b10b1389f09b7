/**
 * The goals of issues 10 and 17, evaluated against one run's figures. Every ratio compares two
 * figures from the same run. A goal whose figures are missing (section skipped, peer not
 * available) is reported as not measured, never as met.
 */
import type { HopReport } from './hop-section.js';
import type { HttpFigure } from './hop.js';
import type { BenchResults } from './report.js';
import { ratio } from './stats.js';

export interface Goal {
  goal: string;
  measured: string;
  /** null: not measured in this run. */
  met: boolean | null;
}

const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : 'n/a');
const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : 'n/a');

function http(hop: HopReport, path: string, connections: number): HttpFigure | undefined {
  return hop.http.find((h) => h.path === path && h.connections === connections);
}

function hopGoals(hop: HopReport): Goal[] {
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
      goal: `hop CPU per request <= ${limit.cpu}x the bare http-proxy-3 hop's (${c} conn)`,
      measured: `${f2(cpu)}x (${f1(hub.hopCpuUs)} vs ${f1(bare.hopCpuUs)} µs)`,
      met: cpu <= limit.cpu,
    });
    const r = ratio(hub.rps, chp.rps);
    goals.push({
      goal: `hop req/s >= ${limit.rps}x CHP -> app (${c} conn)`,
      measured: `${f2(r)}x (${f1(hub.rps)} vs ${f1(chp.rps)}); bare hop ${f2(ratio(bare.rps, chp.rps))}x`,
      met: r >= limit.rps,
    });
    const p = ratio(hub.p99, chp.p99);
    goals.push({
      goal: `hop p99 <= 1.3x CHP's (${c} conn)`,
      measured: `${f2(p)}x (${f2(hub.p99)} vs ${f2(chp.p99)} ms)`,
      met: p <= 1.3,
    });
  }
  const chpWs = hop.ws.find((w) => w.path === 'chp');
  const hubWs = hop.ws.find((w) => w.path === 'hubapps');
  if (chpWs && hubWs) {
    const rtt = ratio(hubWs.rttP50, chpWs.rttP50);
    goals.push({
      goal: "WebSocket echo RTT <= 1.3x CHP's",
      measured: `${f2(rtt)}x (${hubWs.rttP50.toFixed(3)} vs ${chpWs.rttP50.toFixed(3)} ms, p50)`,
      met: rtt <= 1.3,
    });
    const m = ratio(hubWs.msgsPerSMany, chpWs.msgsPerSMany);
    goals.push({
      goal: `WebSocket messages/s >= 0.8x CHP's (${hop.settings.wsConnections} conn)`,
      measured: `${f2(m)}x (${f1(hubWs.msgsPerSMany)} vs ${f1(chpWs.msgsPerSMany)})`,
      met: m >= 0.8,
    });
  }
  for (const c of hop.settings.connections) {
    const jsp = http(hop, 'jsp', c);
    const hub = http(hop, 'hubapps', c)!;
    const goal = `hop CPU per request <= 0.2x jupyter-server-proxy's (${c} conn)`;
    if (!jsp) {
      goals.push({ goal, measured: `not measured: ${hop.jsp.reason}`, met: null });
      continue;
    }
    const r = ratio(hub.hopCpuUs, jsp.hopCpuUs);
    goals.push({
      goal,
      measured: `${f2(r)}x (${f1(hub.hopCpuUs)} vs ${f1(jsp.hopCpuUs)} µs)`,
      met: r <= 0.2,
    });
  }
  const mem = hop.memory.find((m) => m.name === 'hubapps-proxy');
  if (mem) {
    goals.push({
      goal: 'idle proxy PSS <= 15 MB, RSS <= 50 MB cold',
      measured: `PSS ${f1(mem.cold.pss)} MB, RSS ${f1(mem.cold.rss)} MB`,
      met: mem.cold.pss <= 15 && mem.cold.rss <= 50,
    });
    goals.push({
      goal: `idle proxy RSS <= 55 MB 30 s after load${hop.idleWaitS !== 30 ? ` (here ${hop.idleWaitS} s)` : ''}`,
      measured: `${f1(mem.afterLoad.rss)} MB (PSS ${f1(mem.afterLoad.pss)} MB)`,
      met: mem.afterLoad.rss <= 55,
    });
  }
  return goals;
}

export function evaluateGoals(results: BenchResults): Goal[] {
  const goals: Goal[] = [];
  const { hop, demo, spawn, scale } = results.sections;
  if (hop) goals.push(...hopGoals(hop));
  if (demo) {
    goals.push({
      goal: `demo: hubapps' share of a sequential start p50 <= 120 ms (POST -> first byte, minus the app's own start-up; n=${demo.n})`,
      measured: `${f1(demo.shareMs)} ms (${f1(demo.total.p50)} - ${f1(demo.app.p50)})`,
      met: demo.shareMs <= 120,
    });
  }
  if (spawn) {
    const seq = spawn.sequential;
    const con = spawn.concurrent;
    const why = `not measured: ${spawn.skipped}`;
    goals.push(
      seq
        ? {
            goal: `sequential start p50 <= 250 ms, without the app's start-up (n=${seq.n})`,
            measured: `p50 ${f1(seq.withoutApp.p50)} ms, p95 ${f1(seq.withoutApp.p95)} ms`,
            met: seq.withoutApp.p50 <= 250,
          }
        : { goal: 'sequential start p50 <= 250 ms', measured: why, met: null },
    );
    goals.push(
      con
        ? {
            goal: `${con.n} concurrent starts: p50 <= 1 s, p95 <= 1.5 s, all succeed`,
            measured: `p50 ${f1(con.total.p50)} ms, p95 ${f1(con.total.p95)} ms, all ${con.n} succeeded`,
            met: con.total.p50 <= 1000 && con.total.p95 <= 1500,
          }
        : {
            goal: 'concurrent starts: p50 <= 1 s, p95 <= 1.5 s, all succeed',
            measured: why,
            met: null,
          },
    );
    const b = spawn.burst;
    goals.push(
      b
        ? {
            goal: `${b.n} concurrent starts all succeed`,
            measured: `${b.succeeded} of ${b.n} in ${f1(b.wallMs)} ms`,
            met: b.succeeded === b.n,
          }
        : { goal: 'a burst of concurrent starts all succeed', measured: why, met: null },
    );
  }
  if (scale) {
    const a = scale.api;
    const worst = Math.max(a.listUser.p95, a.listAll.p95, a.start.p95);
    goals.push({
      goal: `${scale.servers} servers: API p95 <= 20 ms (list user, list all, start)`,
      measured: `${f1(a.listUser.p95)} / ${f1(a.listAll.p95)} / ${f1(a.start.p95)} ms`,
      met: worst <= 20,
    });
    goals.push({
      goal: `${scale.servers} servers: API p95 <= 20 ms (stop; DELETE answers once the processes are gone)`,
      measured: `${f1(a.stop.p95)} ms`,
      met: a.stop.p95 <= 20,
    });
    goals.push({
      goal: `${scale.servers} servers: reconcile pass <= 500 ms`,
      measured: `mean ${f1(scale.reconcile.meanMs)} ms over ${scale.reconcile.passes} passes (all <= ${scale.reconcile.maxBoundMs} ms); adoption pass ${scale.restart.adoptionPassMs ?? 'n/a'} ms`,
      met: scale.reconcile.passes > 0 ? scale.reconcile.maxBoundMs <= 500 : null,
    });
    goals.push({
      goal: `${scale.servers} servers: re-adopted <= 3 s after a restart`,
      measured: `${f2(scale.restart.adoptedS)} s after kill -9`,
      met: scale.restart.adoptedS <= 3,
    });
  }
  return goals;
}
