/** The run's figures as Markdown: machine, raw figures per benchmark, ratios, and where each goal stands. */
import type { DemoReport } from './demo-section.js';
import type { GuardReport } from './guard-section.js';
import type { HopReport } from './hop-section.js';
import { evaluateGoals, type Goal } from './goals.js';
import type { Machine } from './machine.js';
import type { ScaleReport } from './scale-section.js';
import type { SpawnReport, SpawnStats } from './spawn-section.js';
import { TIMELINE_PARTS } from './spawn-timeline.js';
import { n0, n1, n2, n3, table } from './format.js';
import { renderGuard } from './report-guard.js';
import { renderPorts } from './report-ports.js';
import type { PortsReport } from './ports-section.js';
import { renderScale } from './report-scale.js';
import { ratio } from './stats.js';

export interface BenchResults {
  quick: boolean;
  started: string;
  seconds?: number;
  machine: Machine;
  loadAfter?: number[];
  sections: {
    hop?: HopReport;
    guard?: GuardReport;
    demo?: DemoReport;
    spawn?: SpawnReport;
    scale?: ScaleReport;
    ports?: PortsReport;
  };
  /** Sections that threw: their figures are missing from the report. */
  failed: Array<{ section: string; message: string }>;
}

function machine(r: BenchResults): string {
  const m = r.machine;
  return [
    `Run ${r.started}${r.quick ? ' (--quick: short rounds, indicative only)' : ''}, ${n0(r.seconds ?? Number.NaN)} s.`,
    '',
    table(
      ['what', 'value'],
      [
        ['CPU', `${m.cpus} x ${m.cpuModel}`],
        ['memory', `${m.memoryGiB} GiB`],
        ['system', `${m.os}, Linux ${m.kernel}`],
        ['node', m.node],
        ['configurable-http-proxy', m.chp],
        ['http-proxy-3', m.httpProxy3],
        ['wrk', m.wrk],
        ['sudo', m.sudo],
        ['python', m.python],
        [
          'load average (1/5/15 min) before / after',
          `${m.loadavg.join(' ')} / ${r.loadAfter?.join(' ') ?? 'n/a'}`,
        ],
      ],
    ),
  ].join('\n');
}

function hop(h: HopReport): string {
  const out: string[] = ['## HTTP through each path', ''];
  const s = h.settings;
  out.push(
    `wrk -t1 --latency, keep-alive, 1 KiB responses; ${s.rounds} round(s) of ${s.seconds} s per path and connection count, paths in rotated order; medians of the rounds. CPU: user+system time of the path's server-side processes (app, CHP, hop) per request; hop CPU: the hop process alone.`,
    '',
  );
  for (const c of s.connections) {
    const chp = h.http.find((x) => x.path === 'chp' && x.connections === c)!;
    const rows = h.http
      .filter((x) => x.connections === c)
      .map((x) => [
        x.label,
        n0(x.rps),
        n3(x.p50),
        n2(x.p99),
        n0(x.cpuUs),
        x.hopCpuUs > 0 ? n0(x.hopCpuUs) : '-',
        n2(ratio(x.rps, chp.rps)),
        n2(ratio(x.p99, chp.p99)),
        String(x.errors),
      ]);
    out.push(
      `${c} connection${c > 1 ? 's' : ''}:`,
      '',
      table(
        [
          'path',
          'req/s',
          'p50 ms',
          'p99 ms',
          'CPU µs/req',
          'hop CPU µs/req',
          'req/s vs CHP->app',
          'p99 vs CHP->app',
          'errors',
        ],
        rows,
      ),
      '',
    );
  }
  out.push(
    '## WebSocket echo',
    '',
    `64-byte messages, each connection waits for its echo; ${s.wsSeconds} s per path and round. RTT from one connection; messages/s from 1 and ${s.wsConnections} connections.`,
    '',
  );
  const chpWs = h.ws.find((w) => w.path === 'chp')!;
  out.push(
    table(
      [
        'path',
        'RTT p50 ms',
        'RTT p99 ms',
        'msg/s (1 conn)',
        `msg/s (${s.wsConnections} conn)`,
        `vs CHP->app (${s.wsConnections} conn)`,
        'CPU µs/msg',
        'hop CPU µs/msg',
      ],
      h.ws.map((w) => [
        w.label,
        n3(w.rttP50),
        n3(w.rttP99),
        n0(w.msgsPerS1),
        n0(w.msgsPerSMany),
        n2(ratio(w.msgsPerSMany, chpWs.msgsPerSMany)),
        n0(w.cpuUs),
        w.hopCpuUs > 0 ? n0(w.hopCpuUs) : '-',
      ]),
    ),
    '',
  );
  out.push(
    '## Memory of the hop processes',
    '',
    `cold: after start-up and ${s.connections.length ? 'a warm-up of 100 requests per path' : ''}; after load: ${h.idleWaitS} s after the HTTP and WebSocket runs above. MB; PSS splits shared pages (the node binary) among the processes that share them.`,
    '',
  );
  out.push(
    table(
      ['process', 'RSS cold', 'PSS cold', 'RSS after load', 'PSS after load', 'peak RSS'],
      h.memory.map((m) => [
        m.name,
        n1(m.cold.rss),
        n1(m.cold.pss),
        n1(m.afterLoad.rss),
        n1(m.afterLoad.pss),
        n1(m.afterLoad.peakRss),
      ]),
    ),
    '',
  );
  if (!h.jsp.available) out.push(`jupyter-server-proxy: not available: ${h.jsp.reason}.`, '');
  out.push(
    `Token checks hubapps-proxy sent to the service during the whole run: ${h.tokenChecks}.`,
    '',
  );
  return out.join('\n');
}

function spawnStats(label: string, s: SpawnStats): string[][] {
  return [
    [`${label}: total (POST -> app answers via CHP)`, n1(s.total.p50), n1(s.total.p95)],
    [`${label}: total without the app's start-up`, n1(s.withoutApp.p50), n1(s.withoutApp.p95)],
    ...TIMELINE_PARTS.map((p) => [`${label}: ${p}`, n1(s.parts[p]!.p50), n1(s.parts[p]!.p95)]),
  ];
}

function demo(d: DemoReport): string {
  return [
    '## What a user of the demo waits for',
    '',
    table(
      ['figure', 'p50 ms', 'p95 ms'],
      [
        [
          `POST -> first byte of hello through the apps CHP (n=${d.n}, sequential)`,
          n1(d.total.p50),
          n1(d.total.p95),
        ],
        [
          "hello's own start-up, run directly, until its page answers",
          n1(d.app.p50),
          n1(d.app.p95),
        ],
        ["hubapps' share (difference of the p50s)", n1(d.shareMs), ''],
        ...TIMELINE_PARTS.map((p) => [`part: ${p}`, n1(d.parts[p]!), '']),
      ],
    ),
    '',
  ].join('\n');
}

function spawn(s: SpawnReport, cpus: number): string {
  if (s.skipped) return `## Spawn through sudo\n\nSkipped: ${s.skipped}.\n`;
  const rows: string[][] = [];
  if (s.sequential) rows.push(...spawnStats(`sequential (n=${s.sequential.n})`, s.sequential));
  if (s.concurrent) rows.push(...spawnStats(`concurrent (n=${s.concurrent.n})`, s.concurrent));
  if (s.stop)
    rows.push(['stop (DELETE, answered once stopped), sequential', n1(s.stop.p50), n1(s.stop.p95)]);
  const out = [
    '## Spawn through sudo',
    '',
    `Set-up (accounts, installation, sudoers, CHP, service): ${n1(s.setupS)} s. The instant app's own start-up, run directly: ${n1(s.appStartupMs)} ms (subtracted for "without the app's start-up").`,
    '',
    table(['figure', 'p50 ms', 'p95 ms'], rows),
    '',
  ];
  if (s.concurrent)
    out.push(
      `All ${s.concurrent.n} concurrent starts answered within ${n0(s.concurrent.wallMs)} ms.`,
      '',
    );
  if (s.cpuPerStart)
    out.push(
      `CPU time of the whole machine per start (every process: service, sudo, proxy, app, CHP, the bench's client): ${n0(s.cpuPerStart.sequentialMs)} ms sequential (median), ${n0(s.cpuPerStart.concurrentMs)} ms concurrent (total / n). On ${cpus} cores, ${s.concurrent?.n ?? 'n'} starts at once need at least ${n0(((s.concurrent?.n ?? 0) * s.cpuPerStart.concurrentMs) / cpus)} ms of wall time.`,
      '',
    );
  if (s.startCost) {
    out.push(
      'Where a proxy start goes (no sudo; medians; CPU of the process at that moment, 10 ms ticks):',
      '',
    );
    out.push(
      table(
        ['start', 'wall ms', 'CPU ms'],
        s.startCost.map((c) => [c.label, n0(c.wallMs), n0(c.cpuMs)]),
      ),
      '',
    );
  }
  if (s.burst) {
    const failed =
      s.burst.failures.length > 0 ? ` Failures: ${s.burst.failures.slice(0, 3).join('; ')}` : '';
    out.push(
      `${s.burst.n} concurrent starts: ${s.burst.succeeded} succeeded, all answered within ${n0(s.burst.wallMs)} ms.${failed}`,
      '',
    );
  }
  if (s.sudo)
    out.push(
      `The proxy's 'version' op as the service user: ${n1(s.sudo.withSudoMs)} ms through \`sudo -n -u USER\`, ${n1(s.sudo.withoutSudoMs)} ms without (medians of ${s.sudo.n}); sudo's own cost is the difference.`,
      '',
    );
  return out.join('\n');
}

function metLabel(met: Goal['met']): string {
  if (met === 'reported') return 'reported';
  if (met === null) return 'not measured';
  return met ? 'yes' : '**no**';
}

export function renderReport(r: BenchResults): string {
  const parts = ['# hubapps benchmark run', '', machine(r), ''];
  if (r.sections.hop) parts.push(hop(r.sections.hop));
  if (r.sections.guard) parts.push(renderGuard(r.sections.guard));
  if (r.sections.ports) parts.push(renderPorts(r.sections.ports));
  if (r.sections.demo) parts.push(demo(r.sections.demo));
  if (r.sections.spawn) parts.push(spawn(r.sections.spawn, r.machine.cpus));
  if (r.sections.scale) parts.push(renderScale(r.sections.scale));
  for (const f of r.failed)
    parts.push(`## Section ${f.section} failed`, '', `Its figures are missing: ${f.message}`, '');
  const goals = evaluateGoals(r);
  parts.push(
    '## Goals',
    '',
    table(
      ['issue', 'goal', 'measured (against a baseline of the same run)', 'met'],
      goals.map((g) => [g.item, g.goal, g.measured, metLabel(g.met)]),
    ),
    '',
  );
  return `${parts.join('\n')}\n`;
}
