/**
 * The goals of issue 10, evaluated against one run's figures. Every ratio compares two
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
  for (const c of hop.settings.connections) {
    const chp = http(hop, 'chp', c)!;
    const hub = http(hop, 'hubapps', c)!;
    const r = ratio(hub.rps, chp.rps);
    goals.push({ goal: `hop req/s >= 0.9x CHP -> app (${c} conn)`, measured: `${f2(r)}x (${f1(hub.rps)} vs ${f1(chp.rps)})`, met: r >= 0.9 });
    const p = ratio(hub.p99, chp.p99);
    goals.push({ goal: `hop p99 <= 1.3x CHP's (${c} conn)`, measured: `${f2(p)}x (${f2(hub.p99)} vs ${f2(chp.p99)} ms)`, met: p <= 1.3 });
  }
  const chp1 = http(hop, 'chp', 1);
  const hub1 = http(hop, 'hubapps', 1);
  if (chp1 && hub1) {
    const added = hub1.p50 - chp1.p50;
    goals.push({ goal: 'p50 added by the hop <= 0.3 ms (1 conn)', measured: `${f2(added)} ms`, met: added <= 0.3 });
  }
  for (const c of hop.settings.connections) {
    const jsp = http(hop, 'jsp', c);
    const hub = http(hop, 'hubapps', c)!;
    if (!jsp) {
      goals.push({ goal: `>= 8x jupyter-server-proxy req/s, lower p99 (${c} conn)`, measured: `not measured: ${hop.jsp.reason}`, met: null });
      continue;
    }
    const r = ratio(hub.rps, jsp.rps);
    goals.push({
      goal: `>= 8x jupyter-server-proxy req/s, lower p99 (${c} conn)`,
      measured: `${f2(r)}x; p99 ${f2(hub.p99)} vs ${f2(jsp.p99)} ms`,
      met: r >= 8 && hub.p99 < jsp.p99,
    });
  }
  const mem = hop.memory.find((m) => m.name === 'hubapps-proxy');
  if (mem) {
    goals.push({ goal: 'idle proxy RSS <= 45 MB cold', measured: `${f1(mem.cold.rss)} MB (PSS ${f1(mem.cold.pss)} MB)`, met: mem.cold.rss <= 45 });
    goals.push({
      goal: `idle proxy RSS <= 60 MB 30 s after load${hop.idleWaitS !== 30 ? ` (here ${hop.idleWaitS} s)` : ''}`,
      measured: `${f1(mem.afterLoad.rss)} MB (PSS ${f1(mem.afterLoad.pss)} MB)`,
      met: mem.afterLoad.rss <= 60,
    });
  }
  return goals;
}

export function evaluateGoals(results: BenchResults): Goal[] {
  const goals: Goal[] = [];
  const { hop, spawn, scale } = results.sections;
  if (hop) goals.push(...hopGoals(hop));
  if (spawn) {
    for (const [label, s] of [['sequential', spawn.sequential], ['concurrent', spawn.concurrent]] as const) {
      if (!s) {
        goals.push({ goal: `spawn p50 <= 300 ms, p95 <= 600 ms (${label})`, measured: `not measured: ${spawn.skipped}`, met: null });
        continue;
      }
      const w = s.withoutApp;
      goals.push({
        goal: `spawn p50 <= 300 ms, p95 <= 600 ms, without the app's start-up (${label}, n=${s.n})`,
        measured: `p50 ${f1(w.p50)} ms, p95 ${f1(w.p95)} ms (with it: ${f1(s.total.p50)} / ${f1(s.total.p95)})`,
        met: w.p50 <= 300 && w.p95 <= 600,
      });
    }
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
    goals.push({ goal: `${scale.servers} servers: re-adopted <= 3 s after a restart`, measured: `${f2(scale.restart.adoptedS)} s after kill -9`, met: scale.restart.adoptedS <= 3 });
  }
  return goals;
}
