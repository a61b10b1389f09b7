/**
 * `npm run bench:slurm [-- --n N]`: start latency of an app as a Slurm job beside the same
 * app on this host (sudo launcher), measured in the same run, interleaved. Each start is
 * timed from the POST to the app's first answer through CHP. Needs root, the system-test
 * stack (test accounts hubapps-t-*) and the cluster of scripts/slurm/start.sh; prints a
 * Markdown table for docs/benchmarks.md and tears everything down.
 */
import { parseArgs } from 'node:util';
import { TEST_USERS } from '../test/system/harness.js';
import { cancelTestJobs, ensureCluster } from '../test/system/slurm-cluster.js';
import { SystemStack } from '../test/system/system-stack.js';
import { ApiClient, firstAnswer } from './api-client.js';
import { INSTANT_APP_BODY, instantApp } from './instant-app.js';
import { percentile, ratio } from './stats.js';

const USER = TEST_USERS.alice;

async function startMs(
  stack: SystemStack,
  api: ApiClient,
  name: string,
  app: string,
): Promise<number> {
  const t0 = performance.now();
  await api.start(USER, name, app);
  const settled = await api.settled(USER, name, 60_000);
  if (settled.state !== 'running')
    throw new Error(`${USER}/${name} ended ${settled.state}: ${settled.reason}`);
  await firstAnswer(
    `${stack.chp!.proxyUrl}/apps/${USER}/${name}/`,
    { authorization: `token ${stack.adminToken}` },
    INSTANT_APP_BODY,
  );
  const ms = performance.now() - t0;
  const stop = await api.call('DELETE', `/users/${USER}/servers/${name}`);
  if (stop.status !== 200) throw new Error(`stopping ${name} answered ${stop.status}`);
  return ms;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { n: { type: 'string', default: '10' } }, strict: true });
  const n = Number(values.n);
  const mode = await ensureCluster();
  const stack = new SystemStack({
    apps: {
      instant: instantApp(),
      instantjob: {
        ...instantApp('Instant job'),
        slurm: { mem_mb: 128, cpus: 1, time_minutes: 10 },
      },
    },
    config: { slurm: { apps: ['instantjob'] } },
  });
  try {
    await stack.setUp();
    const api = new ApiClient(stack.apiUrl, stack.adminToken);
    await startMs(stack, api, 'warm-host', 'instant');
    await startMs(stack, api, 'warm-job', 'instantjob');
    const host: number[] = [];
    const job: number[] = [];
    for (let i = 0; i < n; i++) {
      host.push(await startMs(stack, api, `host-${i}`, 'instant'));
      job.push(await startMs(stack, api, `job-${i}`, 'instantjob'));
      process.stderr.write(
        `[bench slurm] ${i + 1}/${n}: host ${host.at(-1)!.toFixed(0)} ms, slurm ${job.at(-1)!.toFixed(0)} ms\n`,
      );
    }
    const row = (what: string, v: number[]) =>
      `| ${what} | ${n} | ${percentile(v, 50).toFixed(0)} | ${percentile(v, 95).toFixed(0)} | ${ratio(percentile(v, 50), percentile(host, 50)).toFixed(2)}× |`;
    process.stdout.write(
      [
        `Start latency, POST to the app's first answer through CHP (Slurm ${mode}, ${new Date().toISOString().slice(0, 16)}Z):`,
        '',
        '| launcher | n | p50 ms | p95 ms | p50 vs sudo |',
        '|---|---|---|---|---|',
        row('sudo (this host)', host),
        row('slurm (job on the single node)', job),
        '',
      ].join('\n'),
    );
  } finally {
    await cancelTestJobs();
    await stack.tearDown();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:slurm failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
