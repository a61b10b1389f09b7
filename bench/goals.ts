/**
 * Where one run stands against the goals of issue 29 (and the earlier hop goals of issues 10
 * and 17, and issue 26's for users' own ports). Every figure is set against a baseline measured in the same run. A goal whose
 * figures are missing (section skipped or failed, peer not available) is reported as not
 * measured, never as met.
 */
import type { Goal } from './goal.js';
import { guardGoal, memoryGoals, tcpHopGoals, unixHopGoals } from './goals-hop.js';
import { portsGoals } from './goals-ports.js';
import { n1, n2 } from './format.js';
import type { BenchResults } from './report.js';
import type { ScaleReport } from './scale-section.js';
import type { SpawnReport } from './spawn-section.js';
import { ratio } from './stats.js';

export type { Goal } from './goal.js';

function startGoals(r: BenchResults, why: (section: string) => string): Goal[] {
  const { demo, spawn } = r.sections;
  const goals: Goal[] = [];
  const demoGoal = "demo: hubapps' share of a sequential start p50 <= 120 ms";
  goals.push(
    demo
      ? {
          item: '29.2',
          goal: `${demoGoal} (POST -> first byte through CHP, minus the app alone; n=${demo.n})`,
          measured: `${n1(demo.shareMs)} ms (${n1(demo.total.p50)} ms, ${n2(ratio(demo.total.p50, demo.app.p50))}x hello's own ${n1(demo.app.p50)} ms)`,
          met: demo.shareMs <= 120,
        }
      : { item: '29.2', goal: demoGoal, measured: why('demo'), met: null },
  );
  goals.push(...sudoStartGoals(spawn, why('spawn'), r.machine.cpus));
  return goals;
}

function sudoStartGoals(spawn: SpawnReport | undefined, why: string, cpus: number): Goal[] {
  const skipped = spawn?.skipped ? `not measured: ${spawn.skipped}` : why;
  const seq = spawn?.sequential;
  const con = spawn?.concurrent;
  const burst = spawn?.burst;
  const seqGoal = "sudo: hubapps' share of a sequential start p50 <= 120 ms";
  const conGoal = '20 concurrent starts through sudo: p50 <= 1 s, p95 <= 1.5 s, all succeed';
  const burstGoal = '100 concurrent starts through sudo all succeed';
  const cpu = spawn?.cpuPerStart;
  const floor =
    cpu && con
      ? `; machine CPU ${n1(cpu.concurrentMs)} ms per start, so ${con.n} starts need >= ${n1((con.n * cpu.concurrentMs) / cpus)} ms on ${cpus} cores`
      : '';
  return [
    seq
      ? {
          item: '29.2',
          goal: `${seqGoal} (POST -> first answer through CHP, minus the app alone; n=${seq.n})`,
          measured: `${n1(seq.withoutApp.p50)} ms (p95 ${n1(seq.withoutApp.p95)}; total ${n1(seq.total.p50)} ms, ${n2(ratio(seq.total.p50, spawn!.appStartupMs))}x the app's own ${n1(spawn!.appStartupMs)} ms)`,
          met: seq.withoutApp.p50 <= 120,
        }
      : { item: '29.2', goal: seqGoal, measured: skipped, met: null },
    con
      ? {
          item: '29.2',
          goal: conGoal.replace('20', String(con.n)),
          measured: `p50 ${n1(con.total.p50)} ms, p95 ${n1(con.total.p95)} ms, all ${con.n} succeeded; p50 ${n2(ratio(con.total.p50, seq?.total.p50 ?? Number.NaN))}x a sequential start's${floor}`,
          met: con.total.p50 <= 1000 && con.total.p95 <= 1500,
        }
      : { item: '29.2', goal: conGoal, measured: skipped, met: null },
    burst
      ? {
          item: '29.2',
          goal: burstGoal.replace('100', String(burst.n)),
          measured: `${burst.succeeded} of ${burst.n}, the last answered after ${n1(burst.wallMs / 1000)} s`,
          met: burst.succeeded === burst.n,
        }
      : { item: '29.2', goal: burstGoal, measured: skipped, met: null },
  ];
}

function scaleGoals(s: ScaleReport): Goal[] {
  const a = s.api;
  const base = s.emptyList.p95;
  const stop = s.stopAll;
  const left = stop.rowsLeft + stop.processesLeft + stop.routesLeft;
  const pss = s.proxiesMemory
    .map((p) => `${p.count} proxies: ${n1(p.pss)} MB (${n1(p.pss / Math.max(1, p.count))} each)`)
    .join('; ');
  return [
    {
      item: '29.5',
      goal: `${s.servers} servers started (local launcher, instant app)`,
      measured: `all ${s.servers} running after ${n1(s.rampS)} s`,
      met: true,
    },
    {
      item: '29.5',
      goal: `${s.servers} servers: API list p95 <= 20 ms (GET /users, GET /users/USER)`,
      measured: `${n1(a.listAll.p95)} / ${n1(a.listUser.p95)} ms: ${n2(ratio(a.listAll.p95, base))}x / ${n2(ratio(a.listUser.p95, base))}x GET /users with no server (${n1(base)} ms)`,
      met: Math.max(a.listAll.p95, a.listUser.p95) <= 20,
    },
    {
      item: '29.5',
      goal: `${s.servers} servers: one reconcile pass <= 500 ms`,
      measured: `mean ${n1(s.reconcile.meanMs)} ms over ${s.reconcile.passes} passes (each <= ${s.reconcile.maxBoundMs} ms); adoption pass ${s.restart.adoptionPassMs ?? 'n/a'} ms`,
      met: s.reconcile.passes > 0 ? s.reconcile.maxBoundMs <= 500 : null,
    },
    {
      item: '29.5',
      goal: `${s.servers} servers: re-adopted <= 5 s after kill -9 of the service`,
      measured: `${n2(s.restart.adoptedS)} s (the new service answered after ${n2(s.restart.healthS)} s)`,
      met: s.restart.adoptedS <= 5,
    },
    {
      item: '29.5',
      goal: `${s.servers} servers: stop all, nothing left`,
      measured: `${stop.stopped} stopped in ${n1(stop.seconds)} s; left: ${stop.rowsLeft} rows, ${stop.processesLeft} processes, ${stop.routesLeft} routes`,
      met: stop.stopped >= s.servers && left === 0,
    },
    {
      item: '29.5',
      goal: `${s.servers} servers: the service's memory and CPU at idle`,
      measured: `RSS ${n1(s.serviceMemory.loaded.rss)} MB (${n2(ratio(s.serviceMemory.loaded.rss, s.serviceMemory.idle.rss))}x with no server), ${n1(s.idleCpu.servicePct)}% of a core with reconcile every ${s.reconcileIntervalS} s; the proxies ${n1(s.idleCpu.proxiesPct)}%`,
      met: 'reported',
    },
    {
      item: '29.4',
      goal: 'summed PSS of idle proxies',
      measured: pss,
      met: 'reported',
    },
  ];
}

export function evaluateGoals(results: BenchResults): Goal[] {
  const { hop, guard, scale, ports } = results.sections;
  const why = (section: string) => {
    const failed = results.failed.find((f) => f.section === section);
    return failed
      ? `not measured: the section failed: ${failed.message}`
      : 'not measured: section not run';
  };
  const goals = startGoals(results, why);
  if (hop) goals.push(...unixHopGoals(hop));
  if (guard) goals.push(guardGoal(guard, hop));
  if (hop) goals.push(...memoryGoals(hop));
  if (scale) goals.push(...scaleGoals(scale));
  else
    goals.push({
      item: '29.5',
      goal: '1,000 servers on one host',
      measured: why('scale'),
      met: null,
    });
  if (hop) goals.push(...tcpHopGoals(hop));
  if (ports) goals.push(...portsGoals(ports));
  return goals;
}
