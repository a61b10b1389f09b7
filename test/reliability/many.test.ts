import assert from 'node:assert/strict';
import { requireRootOrSkip } from '../helpers/index.js';
import { waitFor } from '../helpers/wait.js';
import { TEST_USERS } from '../system/harness.js';
import { routeTargetOf, SystemStack, type StoredServer } from '../system/system-stack.js';
import { addReliabilityApps, pool, reconfigure, settled } from './support.js';

const COUNT = 100;

/** The line `hubapps serve` logs once its adoption pass is done (pino JSON). */
function adoptionReport(
  output: string,
): { adopted: number; markedGone: number; ms: number } | undefined {
  const line = output.split('\n').find((l) => l.includes('servers re-adopted'));
  return line
    ? (JSON.parse(line) as { adopted: number; markedGone: number; ms: number })
    : undefined;
}

/**
 * Scenario 3: a restart with many servers. 100 tiny servers of alice and bob, started as
 * their users through sudo, survive a restart of the service: all re-adopted by the first
 * pass, all routes intact, every one still answering through CHP.
 */
describe(`reliability: ${COUNT} running servers are all re-adopted after a service restart (real sudo)`, function () {
  this.timeout(180_000);
  const stack = new SystemStack();
  const wanted = Array.from({ length: COUNT }, (_, i) => ({
    user: i % 2 ? TEST_USERS.bob : TEST_USERS.alice,
    name: `many-${i}`,
  }));
  let initial: StoredServer[];
  before(async function () {
    requireRootOrSkip(this);
    await stack.setUp();
    await reconfigure(stack, { limits: { servers_per_user: 0 } });
    await addReliabilityApps(stack);
    const answers = await pool(wanted, 10, (s) =>
      stack.api('POST', `/users/${s.user}/servers/${s.name}`, { app: 'tiny' }),
    );
    assert.deepEqual(
      answers.filter((a) => a.status !== 202),
      [],
    );
    await waitFor(
      () => stack.servers().every((s) => s.state !== 'pending' && s.state !== 'starting'),
      {
        timeout: 120_000,
        interval: 250,
        what: `${COUNT} starts to settle`,
      },
    );
    initial = stack.servers();
    assert.deepEqual(
      initial.filter((s) => s.state !== 'running').map((s) => `${s.name}: ${s.state} ${s.reason}`),
      [],
    );
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed') stack.reportFailure(this.currentTest.fullTitle());
  });
  after(async () => stack.tearDown());

  it(`re-adopts all ${COUNT} on the first pass: same processes, state running, routes intact`, async () => {
    await stack.service!.stop();
    const t0 = performance.now();
    await stack.startService();
    const report = await waitFor(() => adoptionReport(stack.service!.output()), {
      timeout: 30_000,
      what: 'the adoption report',
    });
    const upMs = Math.round(performance.now() - t0);
    process.stderr.write(
      `      figures: ${report.adopted} servers re-adopted; adoption pass ${report.ms} ms; service restart to adopted ${upMs} ms\n`,
    );
    assert.equal(report.adopted, COUNT);
    assert.equal(report.markedGone, 0);

    const after = stack.servers();
    assert.equal(after.length, COUNT);
    for (const row of after) {
      const old = initial.find((b) => b.id === row.id)!;
      assert.equal(row.state, 'running', `${row.user}/${row.name}: ${row.reason}`);
      assert.deepEqual(
        [row.launcher_pid, row.proxy_pid, row.app_pid],
        [old.launcher_pid, old.proxy_pid, old.app_pid],
      );
    }
    const routes = await stack.routes();
    const servers = Object.entries(routes).filter(([, r]) => r.kind === 'server');
    assert.equal(servers.length, COUNT);
    for (const row of after)
      assert.equal(routes[`/apps/${row.user}/${row.name}`]?.target, routeTargetOf(row));
    assert.equal(new Set(after.map((r) => r.port)).size, COUNT, 'ports are distinct');
  });

  it(`serves every one of the ${COUNT} through CHP after the restart`, async () => {
    const statuses = await pool(wanted, 20, async (s) => {
      const res = await stack.viaChp(`/apps/${s.user}/${s.name}/`, {
        authorization: `token ${stack.adminToken}`,
      });
      return `${res.status} ${await res.text()}`;
    });
    assert.deepEqual(
      statuses.filter((s) => s !== '200 tiny'),
      [],
    );
  });

  it(`stops all ${COUNT}: no process, no route, nothing half-way`, async () => {
    const answers = await pool(wanted, 20, (s) =>
      stack.api('DELETE', `/users/${s.user}/servers/${s.name}`),
    );
    assert.deepEqual(
      answers.filter((a) => a.status !== 200 || a.body.state !== 'stopped').map((a) => a.body),
      [],
    );
    await settled(stack, 15_000);
  });
});
