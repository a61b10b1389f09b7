import assert from 'node:assert/strict';
import fs from 'node:fs';
import { HubappsError } from '../../../src/errors.js';
import { alive } from '../../../src/procfs/processes.js';
import { startLocalStack, type LocalStack } from '../../helpers/stack.js';
import { waitFor } from '../../helpers/wait.js';

const node = process.execPath;
const HELLO = `require('http').createServer((q, s) => s.end('hello ' + q.url)).listen(+process.argv[1], '127.0.0.1')`;
const APPS = {
  hello: { title: 'Hello', command: [node, '-e', HELLO, '{port}'], ready: { timeout: 10 } },
  crash: {
    title: 'Crash',
    command: [node, '-e', 'console.error("crash: no config found"); process.exit(3)'],
    ready: { timeout: 10 },
  },
};

describe('lifecycle: starting and stopping servers (local launcher, real CHP)', function () {
  this.timeout(60000);
  let stack: LocalStack;
  before(
    async () =>
      (stack = await startLocalStack({ apps: APPS, config: { reconcile_interval: 0.5 } })),
  );
  after(async () => stack?.stop());

  const running = (user: string, name: string) =>
    waitFor(
      async () => {
        const r = await stack.api('GET', `/users/${user}/servers/${name}`);
        if (r.body.state === 'failed') throw new Error(`failed: ${r.body.reason}`);
        return r.body.state === 'running' ? r.body : undefined;
      },
      { timeout: 15000, what: `${user}/${name} to run` },
    );

  it('starts a server, routes it in CHP with hubapps data, and serves the app through CHP to a token holder', async () => {
    const r = await stack.api('POST', '/users/alice/servers/one', { app: 'hello' });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    assert.match(r.body.state, /^(pending|starting)$/);
    await running('alice', 'one');
    const routes = await stack.service.deps.routes.list();
    const route = routes.get('/apps/alice/one');
    assert.ok(route, 'route missing');
    assert.deepEqual(
      { user: route.data.user, server: route.data.server, hubapps: route.data.hubapps },
      { user: 'alice', server: 'one', hubapps: true },
    );
    const res = await stack.viaChp('/apps/alice/one/some/path?x=1', {
      authorization: `token ${stack.token}`,
    });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'hello /some/path?x=1');
  });

  it('refuses a request through CHP without a credential', async () => {
    const res = await stack.viaChp('/apps/alice/one/');
    assert.equal(res.status, 401);
  });

  it('runs two named servers of one user at once, on different ports', async () => {
    await stack.api('POST', '/users/alice/servers/two', { app: 'hello' });
    await running('alice', 'two');
    const rows = stack.service.deps.store.list({ user: 'alice', states: ['running'] });
    assert.equal(rows.length, 2);
    assert.notEqual(rows[0]!.port, rows[1]!.port);
  });

  it('answers 409 when an active server is started again, and leaves it running', async () => {
    const r = await stack.api('POST', '/users/alice/servers/one', { app: 'hello' });
    assert.equal(r.status, 409);
    assert.match(r.body.message, /already running/);
    assert.equal(stack.service.deps.store.get('alice', 'one')!.state, 'running');
  });

  it('streams the start as Server-Sent Events ending with the settled server', async () => {
    await stack.api('POST', '/users/bob/servers/sse', { app: 'hello' });
    const res = await fetch(
      `${stack.service.urls.serviceOrigin}/services/hubapps/api/users/bob/servers/sse/progress`,
      {
        headers: { authorization: `token ${stack.token}` },
      },
    );
    assert.equal(res.headers.get('content-type'), 'text/event-stream');
    const text = await res.text();
    assert.match(text, /event: state\ndata: .*"state":"pending"/);
    assert.match(text, /"state":"running"/);
    assert.match(text, /event: done\ndata: .*"ready":true/);
  });

  it('stops a server: no process, no route, state stopped; stopping again is harmless', async () => {
    const row = stack.service.deps.store.get('alice', 'two')!;
    const r = await stack.api('DELETE', '/users/alice/servers/two');
    assert.equal(r.status, 200);
    assert.equal(r.body.state, 'stopped');
    assert.ok(!alive(row.proxy_pid), 'proxy still alive');
    assert.ok(!alive(row.app_pid), 'app still alive');
    assert.ok(!(await stack.service.deps.routes.list()).has('/apps/alice/two'));
    assert.equal((await stack.api('DELETE', '/users/alice/servers/two')).body.state, 'stopped');
  });

  it('sends a request for a stopped server to the service, which says it is not running and nothing more (no owner, state or reason)', async () => {
    const res = await stack.viaChp('/apps/alice/two/');
    assert.equal(res.status, 503);
    const text = await res.text();
    assert.match(text, /There is no running server at this address/);
    assert.doesNotMatch(text, /alice|stopped|reason/i);
  });

  it('marks a server whose app exits during start as failed, with the reason', async () => {
    await stack.api('POST', '/users/alice/servers/bad', { app: 'crash' });
    const failed = await waitFor(
      async () => {
        const r = await stack.api('GET', '/users/alice/servers/bad');
        return r.body.state === 'failed' ? r.body : undefined;
      },
      { timeout: 15000, what: 'the crash app to fail' },
    );
    assert.match(failed.reason, /exit|code 3/);
    const logs = await stack.api('GET', '/users/alice/servers/bad/logs?tail=50');
    assert.ok(
      logs.body.lines.some((l: string) => l.includes('crash: no config found')),
      JSON.stringify(logs.body.lines),
    );
    assert.ok(!(await stack.service.deps.routes.list()).has('/apps/alice/bad'));
  });

  /** CHP's route API, failing for `route` the next `times` calls, as a CHP stalled under load does. */
  function stallRoutes(route: string, times: number): { restore(): void; left(): number } {
    const routes = stack.service.deps.serverRoutes;
    const add = routes.add.bind(routes);
    let left = times;
    routes.add = async (path, target, data) => {
      if (path === route && left-- > 0)
        throw new HubappsError(
          'chp_unreachable',
          'configurable-http-proxy is not reachable (a stall made by the test)',
        );
      return add(path, target, data);
    };
    return { restore: () => void (routes.add = add), left: () => Math.max(left, 0) };
  }

  it('keeps a ready server whose route CHP fails to take twice, and routes it on the next try', async () => {
    const stall = stallRoutes('/apps/alice/stall', 2);
    try {
      assert.equal(
        (await stack.api('POST', '/users/alice/servers/stall', { app: 'hello' })).status,
        202,
      );
      await running('alice', 'stall');
      assert.equal(stall.left(), 0, 'both failures were met');
      const res = await stack.viaChp('/apps/alice/stall/x', {
        authorization: `token ${stack.token}`,
      });
      assert.equal(await res.text(), 'hello /x');
    } finally {
      stall.restore();
    }
  });

  it('fails the start, naming CHP, and stops the app when CHP keeps refusing the route', async () => {
    const stall = stallRoutes('/apps/alice/stuck', 100);
    try {
      await stack.api('POST', '/users/alice/servers/stuck', { app: 'hello' });
      const failed = await waitFor(
        async () => {
          const r = await stack.api('GET', '/users/alice/servers/stuck');
          return r.body.state === 'failed' ? r.body : undefined;
        },
        { timeout: 15000, what: 'alice/stuck to fail' },
      );
      assert.match(failed.reason, /configurable-http-proxy is not reachable/);
      assert.equal(stall.left(), 97, 'three tries, then no more');
      const pid = stack.service.deps.store.get('alice', 'stuck')!.proxy_pid!;
      await waitFor(async () => !(await alive(pid)), {
        timeout: 5000,
        what: 'the proxy to be stopped',
      });
    } finally {
      stall.restore();
    }
  });

  it('re-adopts running servers after a service restart, and marks those that died meanwhile', async () => {
    await stack.api('POST', '/users/carol/servers/dies', { app: 'hello' });
    await running('carol', 'dies');
    const dying = stack.service.deps.store.get('carol', 'dies')!;
    await stack.service.close();
    process.kill(dying.proxy_pid!, 'SIGKILL');
    process.kill(dying.app_pid!, 'SIGKILL');
    await waitFor(() => !alive(dying.proxy_pid), { what: 'the proxy to die' });
    await stack.restartService();
    const store = stack.service.deps.store;
    assert.equal(store.get('alice', 'one')!.state, 'running');
    assert.equal(store.get('carol', 'dies')!.state, 'failed');
    const res = await stack.viaChp('/apps/alice/one/', { authorization: `token ${stack.token}` });
    assert.equal(res.status, 200);
    const routes = await stack.service.deps.routes.list();
    assert.ok(!routes.has('/apps/carol/dies'), 'stale route kept');
  });

  it('puts the routes back within a reconcile interval after CHP restarts empty', async () => {
    const { port, apiPort } = stack.chp;
    await stack.chp.stop();
    const { startChp } = await import('../../../src/chp/chp-process.js');
    stack.chp = await startChp({
      port,
      apiPort,
      authToken: stack.service.deps.config.chp.auth_token,
    });
    await waitFor(async () => (await stack.service.deps.routes.list()).has('/apps/alice/one'), {
      timeout: 5000,
      what: 'the route to come back',
    });
    const res = await stack.viaChp('/apps/alice/one/', { authorization: `token ${stack.token}` });
    assert.equal(res.status, 200);
  });

  it('removes a running server with {"remove": true}: stopped first, then its row and log file gone; the audit trail keeps it and the name is free again', async () => {
    await stack.api('POST', '/users/alice/servers/gone', { app: 'hello' });
    await running('alice', 'gone');
    const row = stack.service.deps.store.get('alice', 'gone')!;
    assert.ok(fs.existsSync(row.log_file!), 'no log file to remove');
    const r = await stack.api('DELETE', '/users/alice/servers/gone', { remove: true });
    assert.equal(r.status, 204, JSON.stringify(r.body));
    assert.ok(!alive(row.proxy_pid), 'proxy still alive');
    assert.ok(!alive(row.app_pid), 'app still alive');
    assert.ok(!(await stack.service.deps.routes.list()).has('/apps/alice/gone'));
    assert.equal(
      stack.service.deps.store.get('alice', 'gone'),
      undefined,
      'the row is still there',
    );
    assert.equal(fs.existsSync(row.log_file!), false, 'the log file is still there');
    assert.equal((await stack.api('GET', '/users/alice/servers/gone')).status, 404);
    const audit = stack.service.deps.store.events.search({
      user: 'alice',
      server: 'gone',
      kind: 'audit',
      limit: 10,
    });
    assert.deepEqual(
      audit.map((e) => [e.message, e.server_id]),
      [['removed', null]],
    );
    const again = await stack.api('POST', '/users/alice/servers/gone', { app: 'hello' });
    assert.equal(again.status, 202);
    await running('alice', 'gone');
    await stack.api('DELETE', '/users/alice/servers/gone', { remove: true });
  });

  it('refuses a bad remove body and an unknown server with a JSON error, and removes nothing', async () => {
    const before = stack.service.deps.store.list().length;
    const bad = await stack.api('DELETE', '/users/alice/servers/two', { remove: 'yes' });
    assert.deepEqual([bad.status, bad.body.code], [400, 'invalid_body']);
    const extra = await stack.api('DELETE', '/users/alice/servers/two', { remove: true, all: 1 });
    assert.deepEqual([extra.status, extra.body.code], [400, 'unknown_field']);
    const missing = await stack.api('DELETE', '/users/alice/servers/nosuch', { remove: true });
    assert.deepEqual([missing.status, missing.body.code], [404, 'no_such_server']);
    assert.equal(stack.service.deps.store.list().length, before);
    const kept = await stack.api('DELETE', '/users/alice/servers/two', { remove: false });
    assert.deepEqual([kept.status, kept.body.state], [200, 'stopped']);
    assert.ok(stack.service.deps.store.get('alice', 'two'), 'remove: false removed the row');
  });

  it('keeps the per-server log out of reach of other users (mode 0640, service-owned)', () => {
    const row = stack.service.deps.store.get('alice', 'one')!;
    assert.equal(fs.statSync(row.log_file!).mode & 0o777, 0o640);
  });
});
