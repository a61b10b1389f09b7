/** The guard section of the report: what the port guard adds to a TCP-only app. */
import { n0, n1, n2, table } from './format.js';
import type { GuardMode, GuardReport, GuardVariant } from './guard-section.js';
import { ratio } from './stats.js';

const NAMES: Record<GuardVariant, string> = {
  direct: 'direct, no guard (the baseline)',
  guard: 'port guard on',
  pasta: 'namespace + pasta',
};
const MODES: Record<GuardMode, string> = {
  close: 'a new connection per request',
  keep: 'keep-alive',
};

export function renderGuard(g: GuardReport): string {
  if (g.skipped) return `## The port guard\n\nSkipped: ${g.skipped}.\n`;
  const direct = (mode: GuardMode) =>
    g.figures.find((f) => f.variant === 'direct' && f.mode === mode)!;
  return [
    '## The port guard',
    '',
    `wrk -t1 -c${g.connections} against a Node server answering "ok", ${g.rounds} round(s) of ${g.seconds} s per variant and mode, variants interleaved; medians. Machine CPU: all CPU time of the machine per request (wrk's included, the same in every variant); "added" is the difference to direct.`,
    '',
    table(
      ['variant', 'mode', 'req/s', 'vs direct', 'machine CPU µs/req', 'added µs/req'],
      g.figures.map((f) => [
        NAMES[f.variant],
        MODES[f.mode],
        n0(f.rps),
        n2(ratio(f.rps, direct(f.mode).rps)),
        n1(f.machineCpuUs),
        f.variant === 'direct' ? '-' : n1(f.machineCpuUs - direct(f.mode).machineCpuUs),
      ]),
    ),
    '',
  ].join('\n');
}
