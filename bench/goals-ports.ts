/** Issue 26's goals: a user's own port costs about what the server's app costs through the same proxy. */
import { n1, n2, n3 } from './format.js';
import type { Goal } from './goal.js';
import type { PortsReport } from './ports-section.js';
import { ratio } from './stats.js';

export function portsGoals(p: PortsReport): Goal[] {
  const goals: Goal[] = [];
  const at = (figs: PortsReport['http'], path: string, c?: number) =>
    figs.find((f) => f.path === path && (c === undefined || f.connections === c));
  const port32 = at(p.http, 'port', 32);
  const app32 = at(p.http, 'hubapps-unix', 32);
  const direct32 = at(p.http, 'chp', 32);
  if (port32 && app32 && direct32) {
    const r = ratio(port32.rps, app32.rps);
    goals.push({
      item: '26',
      goal: "port hop req/s >= 0.9x the app hop's (keep-alive, 32 conn)",
      measured: `${n2(r)}x (${n1(port32.rps)} vs ${n1(app32.rps)} req/s); ${n2(ratio(port32.rps, direct32.rps))}x CHP -> the program`,
      met: r >= 0.9,
    });
  }
  const portClose = at(p.close, 'port');
  const appClose = at(p.close, 'hubapps-unix');
  if (portClose && appClose)
    goals.push({
      item: '26',
      goal: 'machine CPU a port adds per request on a new connection (listener and post-connect checks)',
      measured: `${n1(portClose.machineCpuUs - appClose.machineCpuUs)} µs (${n1(portClose.machineCpuUs)} vs the app hop's ${n1(appClose.machineCpuUs)} µs; req/s ${n2(ratio(portClose.rps, appClose.rps))}x)`,
      met: 'reported',
    });
  const portWs = p.ws.find((w) => w.path === 'port');
  const appWs = p.ws.find((w) => w.path === 'hubapps-unix');
  if (portWs && appWs) {
    const r = ratio(portWs.rttP50, appWs.rttP50);
    goals.push({
      item: '26',
      goal: "port WebSocket RTT p50 <= 1.1x the app hop's",
      measured: `${n2(r)}x (${n3(portWs.rttP50)} vs ${n3(appWs.rttP50)} ms)`,
      met: r <= 1.1,
    });
  }
  return goals;
}
