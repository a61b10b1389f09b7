/** The ports section of the report: a user's own port against the server's app and the program direct. */
import { n0, n1, n2, n3, table } from './format.js';
import type { HttpFigure } from './hop.js';
import type { PathKey } from './hop-stack.js';
import type { PortsReport } from './ports-section.js';
import { ratio } from './stats.js';

function find<T extends { path: PathKey }>(
  figures: T[],
  path: PathKey,
  more: (f: T) => boolean = () => true,
): T | undefined {
  return figures.find((f) => f.path === path && more(f));
}

function httpTable(figures: HttpFigure[]): string {
  const app = find(figures, 'hubapps-unix');
  const direct = find(figures, 'chp');
  return table(
    [
      'path',
      'req/s',
      'p50 ms',
      'p99 ms',
      'hop CPU µs/req',
      'machine CPU µs/req',
      'req/s vs app hop',
      'req/s vs direct',
      'p99 vs app hop',
      'errors',
    ],
    figures.map((f) => [
      f.label,
      n0(f.rps),
      n3(f.p50),
      n2(f.p99),
      f.hopCpuUs > 0 ? n0(f.hopCpuUs) : '-',
      n0(f.machineCpuUs),
      n2(ratio(f.rps, app?.rps ?? Number.NaN)),
      n2(ratio(f.rps, direct?.rps ?? Number.NaN)),
      n2(ratio(f.p99, app?.p99 ?? Number.NaN)),
      String(f.errors),
    ]),
  );
}

export function renderPorts(p: PortsReport): string {
  const s = p.settings;
  const out = [
    "## Users' own ports",
    '',
    `The tiny app, started by a real hubapps-proxy on a unix socket (as production runs it) with user_ports' default policy, also listens on port ${p.port}: the same program reached as the server's app, as the user's port \`ports/${p.port}/\` (policy, gate, the cached port-access answer, the listener check, the post-connect check of each new connection) and directly through CHP. Token header on both proxy paths. wrk -t1 --latency, 1 KiB; ${s.rounds} round(s) of ${s.seconds} s per path, paths in rotated order; medians. Hop CPU: the proxy process alone; machine CPU: all CPU time of the machine per request (/proc/stat, wrk's included).`,
    '',
  ];
  for (const c of s.connections) {
    out.push(`Keep-alive, ${c} connection${c > 1 ? 's' : ''}:`, '');
    out.push(httpTable(p.http.filter((f) => f.connections === c)), '');
  }
  out.push(
    `A new connection to the program per request (it answers with \`connection: close\`; wrk keeps its connections), ${s.closeConnections} connections, ${s.closeRounds} round(s) of ${s.closeSeconds} s; /proc/net/tcp and tcp6 held ${p.tcpRowsAfterClose} rows after these runs:`,
    '',
    httpTable(p.close),
    '',
  );
  const appClose = find(p.close, 'hubapps-unix');
  const portClose = find(p.close, 'port');
  if (appClose && portClose)
    out.push(
      `The port path's added machine CPU per request on new connections: ${n1(portClose.machineCpuUs - appClose.machineCpuUs)} µs (hop alone: ${n1(portClose.hopCpuUs - appClose.hopCpuUs)} µs).`,
      '',
    );
  const appWs = find(p.ws, 'hubapps-unix');
  out.push(
    `WebSocket echo, 64-byte messages, ${s.wsSeconds} s per path and round: RTT over one connection, messages/s over 1 and ${s.wsConnections}.`,
    '',
    table(
      [
        'path',
        'RTT p50 ms',
        'RTT p99 ms',
        'msg/s (1 conn)',
        `msg/s (${s.wsConnections} conn)`,
        'RTT p50 vs app hop',
        'machine CPU µs/msg',
      ],
      p.ws.map((w) => [
        w.label,
        n3(w.rttP50),
        n3(w.rttP99),
        n0(w.msgsPerS1),
        n0(w.msgsPerSMany),
        n2(ratio(w.rttP50, appWs?.rttP50 ?? Number.NaN)),
        n0(w.machineCpuUs),
      ]),
    ),
    '',
    `Token checks sent to the service: ${p.tokenChecks}; port-access questions: ${p.portAccessCalls}.`,
    '',
  );
  return out.join('\n');
}
