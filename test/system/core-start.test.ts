import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { requireRootOrSkip } from '../helpers/index.js';
import { waitFor } from '../helpers/wait.js';
import { TEST_USERS } from './harness.js';
import {
  allProcesses,
  isAlive,
  processesMentioning,
  processesOfServer,
  processesOfUid,
  uidOfUser,
  uidsOf,
} from './proc-scan.js';
import { routeTargetOf, SystemStack } from './system-stack.js';

const { alice, bob, mallory, svc } = TEST_USERS;

describe('system: the service as hubapps-t-svc starts servers as their users via sudo (real CHP)', function () {
  this.timeout(60_000);
  const stack = new SystemStack();
  before(async function () {
    requireRootOrSkip(this);
    await stack.setUp();
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed') stack.reportFailure(this.currentTest.fullTitle());
  });
  after(async () => stack.tearDown());

  it('runs the service itself as the service user', async () => {
    const svcUid = await uidOfUser(svc);
    assert.deepEqual(uidsOf(stack.service!.pid), [svcUid, svcUid, svcUid, svcUid]);
  });

  it("runs alice's proxy and app as alice, started through sudo by the service user", async () => {
    const row = await stack.startServer(alice, 'web', 'web');
    const aliceUid = await uidOfUser(alice);
    assert.ok(
      row.app_pid && row.proxy_pid && row.launcher_pid,
      `pids missing: ${JSON.stringify(row)}`,
    );
    assert.deepEqual(uidsOf(row.app_pid), [aliceUid, aliceUid, aliceUid, aliceUid], 'app uid');
    assert.deepEqual(uidsOf(row.proxy_pid), [aliceUid, aliceUid, aliceUid, aliceUid], 'proxy uid');
    const sudo = allProcesses().find((p) => p.pid === row.launcher_pid)!;
    assert.deepEqual(
      sudo.argv,
      ['/usr/bin/sudo', '-n', '-u', alice, '--', stack.installed!.proxyPath],
      'the spec travels on stdin, not in argv',
    );
    assert.equal(sudo.uids[0], await uidOfUser(svc), 'sudo keeps the service user as its real uid');
    assert.deepEqual(
      processesOfServer(row.id, row.user).map((p) => p.pid),
      [row.app_pid],
    );
  });

  it('adds the CHP route /apps/USER/NAME to the proxy with the data {hubapps: true, user, server}', async () => {
    const row = stack.row(alice, 'web')!;
    const route = (await stack.routes())[`/apps/${alice}/web`];
    assert.ok(route, 'route missing');
    assert.equal(route.target, routeTargetOf(row));
    assert.deepEqual(
      { hubapps: route.hubapps, user: route.user, server: route.server },
      { hubapps: true, user: alice, server: 'web' },
    );
  });

  it("serves alice's app through CHP to an admin token, and refuses a request without one", async () => {
    const res = await stack.viaChp(`/apps/${alice}/web/`, {
      authorization: `token ${stack.adminToken}`,
    });
    assert.equal(res.status, 200);
    assert.match(await res.text(), /Directory listing for \//);
    const anonymous = await stack.viaChp(`/apps/${alice}/web/`);
    await anonymous.body?.cancel();
    assert.ok(
      [302, 401, 403].includes(anonymous.status),
      `anonymous request answered ${anonymous.status}`,
    );
  });

  it('runs a second named server of alice at the same time, as alice, with a clean environment', async () => {
    const row = await stack.startServer(alice, 'who', 'whoami');
    const res = await stack.viaChp(`/apps/${alice}/who/x`, {
      authorization: `token ${stack.adminToken}`,
    });
    assert.equal(res.status, 200);
    const seen = (await res.json()) as { uid: number; env: Record<string, string>; url: string };
    assert.equal(seen.uid, await uidOfUser(alice));
    assert.equal(seen.url, '/x');
    assert.equal(seen.env.USER, alice);
    assert.equal(seen.env.HOME, `/home/${alice}`);
    assert.equal(seen.env.HUBAPPS_SERVER_ID, String(row.id));
    assert.ok(
      !JSON.stringify(seen.env).includes(row.secret!),
      'the per-server secret leaked into the app environment',
    );
    const running = stack.servers(alice).filter((s) => s.state === 'running');
    assert.deepEqual(running.map((s) => s.name).sort(), ['web', 'who']);
    assert.notEqual(running[0]!.port, running[1]!.port);
  });

  for (const [title, user, name, status] of [
    ['mallory (not in the group)', mallory, 'web', 403],
    ['root', 'root', 'web', 403],
    ['an unknown user', 'hubapps-t-nosuchuser', 'web', 404],
    ['bob with an invalid server name', bob, 'Bad..Name', 400],
  ] as const) {
    it(`refuses ${title} with ${status}, writing no row and starting no process`, async () => {
      const proxiesBefore = processesMentioning(stack.installed!.root)
        .map((p) => p.pid)
        .sort();
      const r = await stack.api('POST', `/users/${user}/servers/${name}`, { app: 'web' });
      assert.equal(r.status, status, JSON.stringify(r.body));
      assert.equal(r.body.status, status);
      assert.equal(typeof r.body.message, 'string');
      assert.deepEqual(stack.servers(user), []);
      assert.equal(stack.eventCount(user), 0);
      assert.deepEqual(
        processesMentioning(stack.installed!.root)
          .map((p) => p.pid)
          .sort(),
        proxiesBefore,
      );
      if (user !== 'hubapps-t-nosuchuser' && user !== 'root')
        assert.deepEqual(processesOfUid(await uidOfUser(user)), []);
    });
  }

  it('never puts a per-server secret, the admin token or the CHP token in any process argv', () => {
    const secrets = stack.servers().map((s) => s.secret!);
    assert.ok(secrets.length >= 2);
    for (const secret of [...secrets, stack.adminToken, stack.chpToken]) {
      const shown = allProcesses().filter((p) => p.argv.some((a) => a.includes(secret)));
      assert.deepEqual(
        shown.map((p) => p.argv.join(' ')),
        [],
      );
    }
  });

  it('keeps the database file 0600 and owned by the service user', async () => {
    const info = statSync(stack.dbFile);
    assert.equal(info.mode & 0o777, 0o600);
    assert.equal(info.uid, await uidOfUser(svc));
  });

  it('stops a server: no process marked with it, neither sudo nor proxy, no route, state stopped', async () => {
    const row = stack.row(alice, 'who')!;
    const r = await stack.api('DELETE', `/users/${alice}/servers/who`);
    assert.equal(r.status, 200);
    assert.equal(r.body.state, 'stopped');
    assert.deepEqual(processesOfServer(row.id, row.user), []);
    for (const pid of [row.launcher_pid, row.proxy_pid, row.app_pid])
      assert.ok(!isAlive(pid), `pid ${pid} still alive`);
    assert.equal((await stack.routes())[`/apps/${alice}/who`], undefined);
    assert.equal(stack.row(alice, 'web')!.state, 'running', 'the other server keeps running');
  });

  it('leaves alice no process at all once her last server stopped', async () => {
    const row = stack.row(alice, 'web')!;
    assert.equal((await stack.api('DELETE', `/users/${alice}/servers/web`)).status, 200);
    assert.deepEqual(processesOfServer(row.id, row.user), []);
    // sudo may still be reaping its child for a moment after the proxy exited.
    await waitFor(async () => processesOfUid(await uidOfUser(alice)).length === 0, {
      timeout: 3000,
      what: "alice's processes to end",
    });
    assert.equal((await stack.routes())[`/apps/${alice}/web`], undefined);
    assert.equal(stack.row(alice, 'web')!.state, 'stopped');
  });

  it("fails a start without the sudoers rule with a reason naming sudoers and 'hubapps doctor', leaving no process", async () => {
    await stack.removeSudoers();
    const r = await stack.api('POST', `/users/${bob}/servers/web`, { app: 'web' });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const row = await stack.waitState(bob, 'web', ['failed', 'stopped', 'running'], 10_000);
    assert.equal(row.state, 'failed');
    assert.match(row.reason!, /sudoers/);
    assert.match(row.reason!, /hubapps doctor/);
    assert.deepEqual(processesOfServer(row.id, row.user), []);
    assert.ok(!isAlive(row.launcher_pid), 'sudo still running');
    assert.deepEqual(processesOfUid(await uidOfUser(bob)), []);
    const api = await stack.api('GET', `/users/${bob}/servers/web`);
    assert.equal(api.body.state, 'failed');
    assert.match(api.body.reason, /hubapps doctor/);
  });

  it('is still served by the same service process after all of the above', async () => {
    assert.ok(isAlive(stack.service!.pid), stack.service!.output().slice(-2000));
    assert.equal((await fetch(`${stack.apiUrl}/health`)).status, 200);
  });
});
