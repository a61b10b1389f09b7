import assert from 'node:assert/strict';
import { requireRootOrSkip } from '../helpers/index.js';
import { waitFor } from '../helpers/wait.js';
import { TEST_USERS } from '../system/harness.js';
import { isAlive, processesOfServer } from '../system/proc-scan.js';
import { RECONCILE_INTERVAL_S, SystemStack, type StoredServer } from '../system/system-stack.js';
import { addReliabilityApps, inconsistencies, killChp, settled, startChpAgain } from './support.js';

const { alice, bob } = TEST_USERS;
/** One reconcile interval plus what a pass itself may take (a probe times out after 2 s). */
const ONE_PASS_MS = RECONCILE_INTERVAL_S * 1000 + 3000;

/**
 * Scenario 1: kill -9 of an app, of a proxy, of the service and of CHP, with the service
 * running as hubapps-t-svc and real sudo. After each: the servers that should live run and
 * are routed, the dead ones are marked with a reason, no stale route, no orphan process.
 */
describe('reliability: kill -9 of an app, a proxy, the service or CHP is survived (real sudo)', function () {
  this.timeout(90_000);
  const stack = new SystemStack();
  let keep: StoredServer;
  before(async function () {
    requireRootOrSkip(this);
    await stack.setUp();
    await addReliabilityApps(stack);
    keep = await stack.startServer(bob, 'keep', 'tiny');
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed') stack.reportFailure(this.currentTest.fullTitle());
  });
  after(async () => stack.tearDown());

  const works = async (user: string, name: string) => {
    const res = await stack.viaChp(`/apps/${user}/${name}/`, {
      authorization: `token ${stack.adminToken}`,
    });
    assert.equal(res.status, 200, `${user}/${name} through CHP`);
    assert.equal(await res.text(), 'tiny');
  };
  const keepUntouched = async () => {
    const row = stack.row(bob, 'keep')!;
    assert.equal(row.state, 'running', row.reason ?? '');
    assert.deepEqual(
      [row.launcher_pid, row.proxy_pid, row.app_pid],
      [keep.launcher_pid, keep.proxy_pid, keep.app_pid],
    );
    await works(bob, 'keep');
  };
  const gone = async (row: StoredServer) => {
    await waitFor(
      () =>
        processesOfServer(row.id, row.user).length === 0 &&
        !isAlive(row.proxy_pid) &&
        !isAlive(row.launcher_pid),
      {
        timeout: ONE_PASS_MS,
        what: `every process of ${row.user}/${row.name} to end`,
      },
    );
    assert.equal((await stack.routes())[`/apps/${row.user}/${row.name}`], undefined, 'stale route');
  };

  it('kill -9 of an app: its server is marked failed with a reason within one pass, no route, no process; the others run on', async () => {
    const row = await stack.startServer(alice, 'appkill', 'tiny');
    process.kill(row.app_pid!, 'SIGKILL');
    const marked = await stack.waitState(alice, 'appkill', ['failed'], ONE_PASS_MS);
    assert.match(marked.reason!, /app|exit|killed/i);
    await gone(row);
    await keepUntouched();
    await settled(stack);
  });

  it('kill -9 of a proxy: its server is marked failed, the orphaned app is killed by the stop op run as the user, no route', async () => {
    const row = await stack.startServer(alice, 'proxykill', 'tiny');
    process.kill(row.proxy_pid!, 'SIGKILL');
    const marked = await stack.waitState(alice, 'proxykill', ['failed'], ONE_PASS_MS);
    assert.match(marked.reason!, /proxy/);
    await gone(row);
    assert.ok(!isAlive(row.app_pid), 'the app outlived its proxy');
    await keepUntouched();
    await settled(stack);
  });

  it('kill -9 of CHP: a fresh CHP gets every route back within one reconcile interval; servers never stopped', async () => {
    await killChp(stack);
    await startChpAgain(stack);
    await waitFor(async () => (await stack.routes())[`/apps/${bob}/keep`], {
      timeout: ONE_PASS_MS,
      interval: 50,
      what: 'the route to come back',
    });
    await keepUntouched();
    await settled(stack);
  });

  describe('kill -9 of the service, with one app and one proxy killed while it is down', () => {
    let appDies: StoredServer;
    let proxyDies: StoredServer;
    before(async () => {
      appDies = await stack.startServer(alice, 'appdies', 'tiny');
      proxyDies = await stack.startServer(alice, 'proxydies', 'tiny');
      await stack.service!.kill9();
      process.kill(appDies.app_pid!, 'SIGKILL');
      process.kill(proxyDies.proxy_pid!, 'SIGKILL');
      // Without the service nobody cleans up: the orphaned app of the killed proxy still runs.
      await waitFor(() => !isAlive(appDies.proxy_pid) && !isAlive(proxyDies.proxy_pid), {
        timeout: 5000,
        what: 'the proxies to end',
      });
      assert.ok(
        isAlive(proxyDies.app_pid),
        'the app of the killed proxy should outlive it until the service cleans up',
      );
      await stack.startService();
    });

    it('re-adopts the living server: same processes, route intact, requests work', async () => {
      await keepUntouched();
      // The service answers health while its adoption pass still runs; the pass logs its report when done.
      const report = await waitFor(() => /"adopted":(\d+)/.exec(stack.service!.output()), {
        timeout: 10_000,
        what: 'the adoption report',
      });
      assert.equal(report[1], '1');
    });

    it('marks both dead servers with a reason, kills the orphaned app and removes their routes', async () => {
      for (const row of [appDies, proxyDies]) {
        const marked = await stack.waitState(alice, row.name, ['failed'], ONE_PASS_MS);
        assert.match(marked.reason!, /gone|restarted/);
        await gone(row);
      }
    });

    it('leaves database, processes and CHP consistent', async () => {
      assert.deepEqual(await inconsistencies(stack), []);
    });
  });
});
