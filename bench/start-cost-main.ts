/**
 * `node dist/bench/start-cost-main.js [RUNS]`: the start-cost measurement (start-cost.ts)
 * alone, without the rest of the spawn section and its sudo set-up; medians of RUNS starts
 * (20 unless given) of each variant, printed as a table with the machine's load.
 */
import { loadavg } from 'node:os';
import { measureStartCost } from './start-cost.js';

const runs = Number(process.argv[2] ?? 20);
if (!Number.isInteger(runs) || runs < 1) {
  process.stderr.write(`usage: start-cost-main.js [RUNS], RUNS a whole number of at least 1\n`);
  process.exit(2);
}
const load = (label: string) =>
  `${label} load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`;
process.stdout.write(`${load('before:')}\n`);
const figures = await measureStartCost(runs);
const ms = (n: number) => (Number.isFinite(n) ? String(Math.round(n)) : '-').padStart(5);
for (const f of figures)
  process.stdout.write(`${ms(f.wallMs)} ms ${ms(f.cpuMs)} ms CPU  ${f.label}\n`);
process.stdout.write(`${load('after:')}, n = ${runs} each\n`);
