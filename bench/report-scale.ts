/** The scale section of the report: N servers on one host with the local launcher. */
import { n1, n2, table } from './format.js';
import type { Spread } from './scale-measure.js';
import type { ScaleReport } from './scale-section.js';

const row = (label: string, s: Spread, base?: Spread): string[] => [
  label,
  n1(s.p50),
  n1(s.p95),
  String(s.n),
  base ? `${n2(s.p95 / base.p95)}x` : '',
];

export function renderScale(s: ScaleReport): string {
  const a = s.api;
  const m = s.serviceMemory;
  const stop = s.stopAll;
  const cpu = s.idleCpu;
  return [
    `## ${s.servers} servers (local launcher)`,
    '',
    `Started in ${n1(s.rampS)} s (batches, each awaited until running). Reconcile interval ${s.reconcileIntervalS} s.`,
    '',
    table(
      ['figure', 'p50 ms', 'p95 ms', 'n', 'p95 vs GET /users with no server'],
      [
        row('GET /users with no server (the baseline)', s.emptyList),
        row('GET /users/USER (10 servers)', a.listUser, s.emptyList),
        row(`GET /users (${s.servers} servers)`, a.listAll, s.emptyList),
        row('POST start (202 once spawned)', a.start),
        row('POST -> running (progress stream)', a.startToRunning),
        row('DELETE stop (answered once stopped)', a.stop),
      ],
    ),
    '',
    `Reconcile: ${s.reconcile.passes} passes with every server running, mean ${n1(s.reconcile.meanMs)} ms, each <= ${s.reconcile.maxBoundMs} ms (histogram bucket).`,
    '',
    `Idle with every server running, over ${n1(cpu.seconds)} s (reconcile every ${s.reconcileIntervalS} s): the service used ${n1(cpu.servicePct)}% of one core, the ${cpu.proxies} proxies together ${n1(cpu.proxiesPct)}%.`,
    '',
    `Restart: kill -9 (old process gone after ${n2(s.restart.goneS)} s), start again: health answers after ${n2(s.restart.healthS)} s, all ${s.restart.adopted ?? '?'} servers re-adopted after ${n2(s.restart.adoptedS)} s (adoption pass ${s.restart.adoptionPassMs ?? 'n/a'} ms).`,
    '',
    `Stop all: ${stop.stopped} servers stopped through the API (20 DELETEs at a time) in ${n1(stop.seconds)} s; 2 s later ${stop.rowsLeft} rows active, ${stop.processesLeft} proxy or app processes alive, ${stop.routesLeft} server routes in CHP.`,
    '',
    table(
      ['service memory', 'RSS MB', 'PSS MB'],
      [
        ['0 servers', n1(m.idle.rss), n1(m.idle.pss)],
        [`${s.servers} servers`, n1(m.loaded.rss), n1(m.loaded.pss)],
        [
          `${s.servers} servers, after the restart`,
          m.afterRestart ? n1(m.afterRestart.rss) : 'n/a',
          m.afterRestart ? n1(m.afterRestart.pss) : 'n/a',
        ],
      ],
    ),
    '',
    table(
      ['idle hubapps-proxy processes', 'PSS MB summed', 'PSS MB each', 'RSS MB summed'],
      s.proxiesMemory.map((p) => [
        String(p.count),
        n1(p.pss),
        n1(p.pss / Math.max(1, p.count)),
        n1(p.rss),
      ]),
    ),
    '',
    'RSS counts the shared pages (the node binary) once per process; PSS splits them.',
    '',
  ].join('\n');
}
