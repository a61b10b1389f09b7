import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { requireRootOrSkip } from '../helpers/index.js';
import { waitFor } from '../helpers/wait.js';
import { TEST_USERS } from '../system/harness.js';
import { isAlive, processesMentioning, processesOfServer, uidOfUser } from '../system/proc-scan.js';
import { routeTargetOf, SystemStack } from '../system/system-stack.js';
import { addReliabilityApps, pool, reconfigure, settled } from './support.js';

const { alice, bob } = TEST_USERS;

/**
 * Scenario 4: concurrent requests. Every decision is a guarded transition in SQLite, so
 * concurrent starts, stops and starts of the same name end in one consistent state.
 */
describe('reliability: concurrent starts and stops (real sudo)', function () {
  this.timeout(120_000);
  const stack = new SystemStack();
  before(async function () {
    requireRootOrSkip(this);
    await stack.setUp();
    await reconfigure(stack, { limits: { servers_per_user: 0 } });
    await addReliabilityApps(stack);
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed') stack.reportFailure(this.currentTest.fullTitle());
  });
  after(async () => stack.tearDown());

  const stopAll = async () => {
    const active = stack.servers().filter((s) => s.state !== 'stopped' && s.state !== 'failed');
    await pool(active, 20, (s) => stack.api('DELETE', `/users/${s.user}/servers/${s.name}`));
    await settled(stack, 15_000);
  };

  it('starts 50 servers of alice and bob at once: all 202, all running, 50 distinct ports', async () => {
    const wanted = Array.from({ length: 50 }, (_, i) => ({
      user: i % 2 ? bob : alice,
      name: `par-${i}`,
    }));
    const answers = await Promise.all(
      wanted.map((s) => stack.api('POST', `/users/${s.user}/servers/${s.name}`, { app: 'tiny' })),
    );
    assert.deepEqual(
      answers.filter((a) => a.status !== 202).map((a) => a.body),
      [],
    );
    await waitFor(() => stack.servers().filter((s) => s.state === 'running').length === 50, {
      timeout: 90_000,
      interval: 250,
      what: '50 servers to run',
    });
    const rows = stack.servers();
    assert.equal(new Set(rows.map((r) => r.port)).size, 50, 'two servers share a port');
    const routes = await stack.routes();
    for (const r of rows)
      assert.equal(routes[`/apps/${r.user}/${r.name}`]?.target, routeTargetOf(r));
    await settled(stack);
    await stopAll();
  });

  it('starts the same user+name 10 times at once: one 202, nine 409, one row, one proxy', async () => {
    const answers = await Promise.all(
      Array.from({ length: 10 }, () =>
        stack.api('POST', `/users/${alice}/servers/same`, { app: 'tiny' }),
      ),
    );
    assert.deepEqual(
      answers.map((a) => a.status).sort(),
      [202, 409, 409, 409, 409, 409, 409, 409, 409, 409],
    );
    for (const a of answers.filter((x) => x.status === 409))
      assert.match(a.body.message, /already (pending|starting|running)/);
    const row = await stack.waitState(alice, 'same', ['running']);
    assert.equal(stack.servers(alice).filter((s) => s.name === 'same').length, 1);
    const aliceUid = await uidOfUser(alice);
    const proxies = processesMentioning(stack.installed!.root).filter(
      (p) => p.uids[0] === aliceUid,
    );
    assert.deepEqual(
      proxies.map((p) => p.pid),
      [row.proxy_pid],
    );
    assert.equal(processesOfServer(row.id, alice).length, 1, 'one app process');
    await stopAll();
  });

  it('stops a server while it is starting: stopped for good (the start does not bring it back), nothing left', async () => {
    const started = await stack.api('POST', `/users/${alice}/servers/halfway`, { app: 'slow' });
    assert.equal(started.status, 202);
    assert.equal(started.body.state, 'starting');
    const row = stack.row(alice, 'halfway')!;
    const stopped = await stack.api('DELETE', `/users/${alice}/servers/halfway`);
    assert.equal(stopped.status, 200, JSON.stringify(stopped.body));
    assert.equal(stopped.body.state, 'stopped');
    // Past the moment the app would have been ready: the start must not come back to life.
    await sleep(4000);
    assert.equal(stack.row(alice, 'halfway')!.state, 'stopped');
    assert.equal((await stack.routes())[`/apps/${alice}/halfway`], undefined);
    assert.deepEqual(processesOfServer(row.id, alice), []);
    assert.ok(!isAlive(row.launcher_pid));
    await settled(stack);
  });

  it('refuses a start while the server is stopping with 409, and starts it once the stop is done', async () => {
    await stack.startServer(bob, 'cycle', 'stubborn');
    const stopping = stack.api('DELETE', `/users/${bob}/servers/cycle`);
    await waitFor(() => stack.row(bob, 'cycle')!.state === 'stopping', {
      timeout: 5000,
      interval: 20,
      what: 'the stop to begin',
    });
    const during = await stack.api('POST', `/users/${bob}/servers/cycle`, { app: 'tiny' });
    assert.equal(during.status, 409, JSON.stringify(during.body));
    assert.match(during.body.message, /already stopping/);
    assert.equal((await stopping).body.state, 'stopped');
    const again = await stack.api('POST', `/users/${bob}/servers/cycle`, { app: 'tiny' });
    assert.equal(again.status, 202, JSON.stringify(again.body));
    const row = await stack.waitState(bob, 'cycle', ['running']);
    assert.equal(row.app_pid !== null && isAlive(row.app_pid), true);
    await stopAll();
  });
});
