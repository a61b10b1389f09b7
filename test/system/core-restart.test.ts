import assert from 'node:assert/strict';
import { requireRootOrSkip } from '../helpers/index.js';
import { waitFor } from '../helpers/wait.js';
import { TEST_USERS } from './harness.js';
import { isAlive, processesOfServer, processesOfUid, uidOfUser } from './proc-scan.js';
import {
  RECONCILE_INTERVAL_S,
  routeTargetOf,
  SystemStack,
  type StoredServer,
} from './system-stack.js';

const { alice } = TEST_USERS;

describe('system: servers outlive the service and CHP (service as hubapps-t-svc, sudo launcher)', function () {
  this.timeout(60_000);
  const stack = new SystemStack();
  let started: StoredServer;
  let dies: StoredServer;
  before(async function () {
    requireRootOrSkip(this);
    await stack.setUp();
    started = await stack.startServer(alice, 'keep', 'web');
    dies = await stack.startServer(alice, 'dies', 'web');
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed') stack.reportFailure(this.currentTest.fullTitle());
  });
  after(async () => stack.tearDown());

  const works = async () => {
    const res = await stack.viaChp(`/apps/${alice}/keep/`, {
      authorization: `token ${stack.adminToken}`,
    });
    assert.equal(res.status, 200);
    assert.match(await res.text(), /Directory listing for \//);
  };
  const route = async () => (await stack.routes())[`/apps/${alice}/keep`];

  it('keeps the server running, untouched, when the service is killed with SIGKILL', async () => {
    const oldPid = stack.service!.pid;
    await stack.service!.kill9();
    assert.ok(!isAlive(oldPid));
    for (const pid of [started.launcher_pid, started.proxy_pid, started.app_pid])
      assert.ok(isAlive(pid), `pid ${pid} died with the service`);
    assert.equal(stack.row(alice, 'keep')!.state, 'running');
  });

  it('re-adopts the running server when the service starts again: row running, same processes, route intact, requests work', async () => {
    await stack.startService();
    const row = stack.row(alice, 'keep')!;
    assert.equal(row.state, 'running', row.reason ?? '');
    assert.deepEqual(
      [row.launcher_pid, row.proxy_pid, row.app_pid],
      [started.launcher_pid, started.proxy_pid, started.app_pid],
    );
    const r = await route();
    assert.ok(r, 'route missing after the restart');
    assert.equal(r.target, routeTargetOf(row));
    assert.deepEqual(
      { hubapps: r.hubapps, user: r.user, server: r.server },
      { hubapps: true, user: alice, server: 'keep' },
    );
    await works();
    // The service answers health before its adoption pass ends; the pass logs what it adopted when it does.
    await waitFor(() => /"adopted":2/.test(stack.service!.output()), {
      timeout: 15_000,
      what: 'the adoption pass to log 2 servers adopted',
    });
  });

  it('puts the route back within one reconcile interval after CHP restarts empty', async () => {
    await stack.restartChp();
    assert.equal(await route(), undefined, 'a restarted CHP starts without routes');
    const back = await waitFor(route, {
      timeout: RECONCILE_INTERVAL_S * 1000 + 2000,
      interval: 50,
      what: 'the route to come back',
    });
    assert.deepEqual(
      { hubapps: back.hubapps, user: back.user, server: back.server },
      { hubapps: true, user: alice, server: 'keep' },
    );
    await works();
    assert.equal(stack.row(alice, 'keep')!.state, 'running');
  });

  it('marks a re-adopted server whose app died on a reconcile pass: not running, a reason, route gone, no process left', async () => {
    process.kill(dies.app_pid!, 'SIGKILL');
    const row = await stack.waitState(
      alice,
      'dies',
      ['failed', 'stopped'],
      RECONCILE_INTERVAL_S * 1000 + 6000,
    );
    assert.ok(row.reason, 'no reason recorded');
    await waitFor(async () => (await stack.routes())[`/apps/${alice}/dies`] === undefined, {
      timeout: 3000,
      what: 'the route to go',
    });
    await waitFor(
      () =>
        processesOfServer(dies.id, alice).length === 0 &&
        !isAlive(dies.proxy_pid) &&
        !isAlive(dies.launcher_pid),
      {
        timeout: 5000,
        what: "the dead server's proxy and sudo to end",
      },
    );
  });

  it('stops a server whose proxy is stopped (SIGSTOP) and does not answer: SIGTERM and SIGCONT through sudo end it, nothing is left', async () => {
    const row = await stack.startServer(alice, 'wedged', 'web');
    process.kill(row.proxy_pid!, 'SIGSTOP');
    const r = await stack.api('DELETE', `/users/${alice}/servers/wedged`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.state, 'stopped', r.body.reason);
    for (const pid of [row.launcher_pid, row.proxy_pid, row.app_pid])
      assert.ok(!isAlive(pid), `pid ${pid} still alive`);
    assert.deepEqual(processesOfServer(row.id, alice), []);
    assert.equal((await stack.routes())[`/apps/${alice}/wedged`], undefined);
    assert.equal(stack.row(alice, 'keep')!.state, 'running', 'the other server keeps running');
  });

  it('stops the re-adopted server from the restarted service: no process, no route', async () => {
    const r = await stack.api('DELETE', `/users/${alice}/servers/keep`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.state, 'stopped');
    assert.deepEqual(processesOfServer(started.id, alice), []);
    for (const pid of [started.launcher_pid, started.proxy_pid, started.app_pid])
      assert.ok(!isAlive(pid), `pid ${pid} still alive`);
    await waitFor(async () => processesOfUid(await uidOfUser(alice)).length === 0, {
      timeout: 3000,
      what: "alice's processes to end",
    });
    assert.equal(await route(), undefined);
  });
});
