/**
 * `npm run bench [-- --quick] [--only hop,ports,guard,demo,spawn,scale] [--json FILE]`: runs the
 * benchmarks of docs/benchmarks.md and prints their figures as Markdown on stdout
 * (progress on stderr). Every process it starts is stopped by pid before it exits. Goals
 * are reported, never enforced: a missed goal does not change the exit code.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { runDemoSection } from './demo-section.js';
import { runGuardSection } from './guard-section.js';
import { runHopSection } from './hop-section.js';
import { runPortsSection } from './ports-section.js';
import { describeMachine } from './machine.js';
import { renderReport, type BenchResults } from './report.js';
import { Aborter } from './run-context.js';
import { runScaleSection } from './scale-section.js';
import { runSpawnSection } from './spawn-section.js';
import { settingsFor } from './settings.js';

const SECTIONS = ['demo', 'spawn', 'guard', 'hop', 'ports', 'scale'] as const;
type Section = (typeof SECTIONS)[number];

function note(line: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      json: { type: 'string' },
    },
    strict: true,
  });
  const quick = values.quick ?? false;
  const only = (values.only?.split(',') ?? [...SECTIONS]) as Section[];
  const unknown = only.filter((s) => !SECTIONS.includes(s));
  if (unknown.length > 0)
    throw new Error(`unknown section ${unknown.join(', ')}; sections: ${SECTIONS.join(', ')}`);
  const settings = settingsFor(quick);
  const aborter = new Aborter();
  const ctx = aborter.context(note);
  const limitS = quick ? 150 : 45 * 60;
  setTimeout(
    () => void aborter.abort(1, `the run took longer than ${limitS} s`, note),
    limitS * 1000,
  ).unref();
  process.once('SIGINT', () => void aborter.abort(130, 'SIGINT', note));
  process.once('SIGTERM', () => void aborter.abort(143, 'SIGTERM', note));
  const started = new Date();
  const results: BenchResults = {
    quick,
    started: started.toISOString(),
    machine: await describeMachine(),
    sections: {},
    failed: [],
  };
  // A section that fails is reported and the others still run: one bad section must not throw
  // away twenty minutes of figures from the rest.
  const run = async <K extends Section>(
    section: K,
    title: string,
    body: () => Promise<NonNullable<BenchResults['sections'][K]>>,
  ) => {
    if (!only.includes(section)) return;
    note(title);
    try {
      results.sections[section] = await body();
    } catch (err) {
      note(`${section} failed: ${(err as Error).stack ?? String(err)}`);
      results.failed.push({ section, message: (err as Error).message ?? String(err) });
    }
  };
  // What a user waits for runs first: the load sections leave tens of thousands of sockets in
  // TIME_WAIT for a minute, and every start's listener lookup reads them all (run 9).
  await run('demo', 'demo: what a user of npm run demo waits for', () =>
    runDemoSection(settings.demo, ctx),
  );
  await run('spawn', 'spawn: starts through real sudo', () => runSpawnSection(settings.spawn, ctx));
  await run('guard', 'guard: what the port guard adds to a TCP-only app', () =>
    runGuardSection(settings.guard, ctx),
  );
  await run('hop', 'hop: HTTP and WebSocket through each path, memory of the hops', () =>
    runHopSection(settings.hop, ctx),
  );
  await run('ports', "ports: a user's own port against the server's app", () =>
    runPortsSection(settings.ports, ctx),
  );
  await run('scale', `scale: ${settings.scale.servers} servers with the local launcher`, () =>
    runScaleSection(settings.scale, ctx),
  );
  results.seconds = (Date.now() - started.getTime()) / 1000;
  results.loadAfter = (await describeMachine()).loadavg;
  if (values.json) writeFileSync(values.json, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(renderReport(results));
  if (results.failed.length > 0) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
