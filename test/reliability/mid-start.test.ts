import assert from 'node:assert/strict';
import path from 'node:path';
import { alive } from '../../src/procfs/processes.js';
import { openDb, type Db } from '../../src/store/db.js';
import { ServerStore } from '../../src/store/servers.js';
import { requireRootOrSkip } from '../helpers/index.js';
import { startLocalStack, type LocalStack } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait.js';
import { TEST_USERS } from '../system/harness.js';
import { isAlive, processesOfServer } from '../system/proc-scan.js';
import { SystemStack } from '../system/system-stack.js';
import { RELIABILITY_APPS } from './apps.js';
import { ACTIVE, addReliabilityApps, settled } from './support.js';

const { alice } = TEST_USERS;

/**
 * Scenario 2: the service dies in the middle of a start. The restarted service's adoption
 * pass settles the half-done start: no row stays pending or starting, and no process of
 * that server is left running without a row that accounts for it.
 */
describe('reliability: the service killed in the middle of a start (real sudo)', function () {
  this.timeout(60_000);
  const stack = new SystemStack();
  before(async function () {
    requireRootOrSkip(this);
    await stack.setUp();
    await addReliabilityApps(stack);
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed') stack.reportFailure(this.currentTest.fullTitle());
  });
  after(async () => stack.tearDown());

  it('after spawn, before ready: on restart the row is failed with a reason and sudo, proxy and app are gone', async () => {
    const r = await stack.api('POST', `/users/${alice}/servers/cut`, { app: 'slow' });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    await stack.service!.kill9();
    const row = stack.row(alice, 'cut')!;
    assert.equal(row.state, 'starting', 'the kill should land while the app is still sleeping');
    assert.ok(isAlive(row.launcher_pid), 'sudo should be running when the service dies');

    await stack.startService();
    const after = await stack.waitState(alice, 'cut', ['failed'], 10_000);
    assert.match(after.reason!, /restarted while this server was starting/);
    assert.deepEqual(
      stack.servers().filter((s) => ACTIVE.includes(s.state) && s.state !== 'running'),
      [],
    );
    await waitFor(
      () => processesOfServer(row.id, alice).length === 0 && !isAlive(row.launcher_pid),
      {
        timeout: 10_000,
        what: 'the interrupted start to leave no process',
      },
    );
    await settled(stack);
  });

  it('lets the interrupted server be started again under the same name', async () => {
    const row = await stack.startServer(alice, 'cut', 'tiny');
    assert.equal(row.state, 'running');
    assert.equal((await stack.api('DELETE', `/users/${alice}/servers/cut`)).status, 200);
    await settled(stack);
  });
});

/**
 * The two windows that cannot be hit from outside with a kill, reproduced in the database
 * file itself while the service is down: a row claimed but never spawned (pending, no
 * process), and a server whose proxy was ready but whose route was never added (starting).
 */
describe('reliability: starts interrupted between claim and spawn, or between ready and route (local stack)', function () {
  this.timeout(30_000);
  let stack: LocalStack;
  let db: Db;
  let store: ServerStore;
  before(async () => {
    stack = await startLocalStack({ apps: { tiny: RELIABILITY_APPS.tiny } });
    // A second connection to the service's database file, as another process would have.
    db = openDb(path.join(stack.dir, 'data', 'hubapps.sqlite'));
    store = new ServerStore(db);
  });
  after(async () => {
    db?.close();
    await stack?.stop();
  });

  it('fails a pending row that has no process on the adoption pass', async () => {
    const claimed = store.claim({
      user: 'alice',
      name: 'claimed',
      app: 'tiny',
      options: {},
      port: 59_990,
      secret: 'x'.repeat(43),
      logFile: path.join(stack.dir, 'logs', 'alice@claimed.log'),
      actor: 'alice',
    });
    assert.equal(claimed.state, 'pending');
    await stack.restartService();
    const row = stack.service.deps.store.get('alice', 'claimed')!;
    assert.equal(row.state, 'failed');
    assert.match(row.reason!, /restarted while this server was starting/);
  });

  it('stops a ready proxy whose start never reached its route, and fails the row', async () => {
    assert.equal(
      (await stack.api('POST', '/users/alice/servers/ready', { app: 'tiny' })).status,
      202,
    );
    await waitFor(() => stack.service.deps.store.get('alice', 'ready')?.state === 'running', {
      timeout: 10_000,
      what: 'the server to run',
    });
    await stack.service.close();
    const running = store.get('alice', 'ready')!;
    // The state a service leaves when it dies after the proxy said ready, before publish() routed it.
    store.transition(running.id, 'starting', {
      from: ['running'],
      message: 'test: back to the moment before the route',
    });
    await stack.chp.stop();
    const { startChp } = await import('../../src/chp/chp-process.js');
    stack.chp = await startChp({
      port: stack.chp.port,
      apiPort: stack.chp.apiPort,
      authToken: stack.service.deps.config.chp.auth_token,
    });

    await stack.restartService();
    const row = stack.service.deps.store.get('alice', 'ready')!;
    assert.equal(row.state, 'failed');
    await waitFor(() => !alive(running.proxy_pid) && !alive(running.app_pid), {
      timeout: 10_000,
      what: 'the proxy and app to stop',
    });
    assert.ok(!(await stack.service.deps.routes.list()).has('/apps/alice/ready'));
  });
});
