import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireRootOrSkip } from '../helpers/index.js';
import { waitFor } from '../helpers/wait.js';
import { run, TEST_GROUP, TEST_USERS } from './harness.js';
import { allProcesses, isAlive } from './proc-scan.js';
import { SystemStack } from './system-stack.js';

const { alice, bob } = TEST_USERS;

/**
 * A small app that does what apps written for JupyterHub do with their environment: GET
 * /env shows it, GET /headers the request's headers, GET /call?q={method, path, body}
 * calls the hubapps API at JUPYTERHUB_API_URL with JUPYTERHUB_API_TOKEN and answers what it
 * got; with REPORT_EVERY set it POSTs its activity to JUPYTERHUB_ACTIVITY_URL that often.
 */
const CALLER = `const env = process.env;
const headers = { authorization: 'token ' + env.JUPYTERHUB_API_TOKEN, 'content-type': 'application/json' };
const call = (method, url, body) =>
  fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
    .then(async (r) => ({ status: r.status, body: await r.json().catch(() => null) }));
if (env.REPORT_EVERY) setInterval(() => {
  const at = new Date().toISOString();
  call('POST', env.JUPYTERHUB_ACTIVITY_URL, { last_activity: at, servers: { [env.JUPYTERHUB_SERVER_NAME]: { last_activity: at } } })
    .then((r) => console.log('activity reported: ' + r.status), (e) => console.log('activity failed: ' + e.message));
}, 1000 * Number(env.REPORT_EVERY));
require('http').createServer(async (q, s) => {
  s.setHeader('content-type', 'application/json');
  const url = new URL(q.url, 'http://app');
  if (url.pathname.endsWith('/env')) return s.end(JSON.stringify(env));
  if (url.pathname.endsWith('/headers')) return s.end(JSON.stringify(q.headers));
  if (url.pathname.endsWith('/call')) {
    const { method, path, body } = JSON.parse(url.searchParams.get('q'));
    return s.end(JSON.stringify(await call(method, env.JUPYTERHUB_API_URL + path, body)));
  }
  s.end('{}');
}).listen(+process.argv[1], '127.0.0.1');`;

// Braces are doubled: a single one is placeholder syntax in the catalog.
const command = [process.execPath, '-e', CALLER.replace(/[{}]/g, '$&$&'), '{port}'];
const IDLE_S = 4;
const APPS = {
  caller: { title: 'Caller', command, ready: { timeout: 20 } },
  reporter: {
    title: 'Reporter',
    command,
    environment: { REPORT_EVERY: '1' },
    ready: { timeout: 20 },
    idle_timeout: IDLE_S,
  },
  silent: { title: 'Silent', command, ready: { timeout: 20 }, idle_timeout: IDLE_S },
};

interface Answer {
  status: number;
  body: { code?: string; message?: string; name?: string; [k: string]: unknown };
}

describe("system: an app's environment, its own API token and its activity (real sudo, real CHP)", function () {
  this.timeout(90_000);
  const stack = new SystemStack({
    apps: APPS,
    config: { environment: { SITE_NAME: 'test-site' }, env_keep: ['T_SITE_PROXY'] },
    serviceEnv: { T_SITE_PROXY: 'http://proxy.example:3128', T_NOT_KEPT: 'private' },
  });
  let token = '';

  before(async function () {
    requireRootOrSkip(this);
    await stack.setUp();
    await stack.startServer(alice, 'caller', 'caller');
    token = (await appGet(alice, 'caller', '/env')).JUPYTERHUB_API_TOKEN as string;
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed') stack.reportFailure(this.currentTest.fullTitle());
  });
  after(async () => stack.tearDown());

  /** GET a path of a server's app through CHP and its proxy, as the admin (admin_access is on). */
  async function appGet(
    user: string,
    name: string,
    path: string,
  ): Promise<Record<string, unknown>> {
    const res = await stack.viaChp(`/apps/${user}/${name}${path}`, {
      authorization: `token ${stack.adminToken}`,
    });
    assert.equal(res.status, 200, await res.clone().text());
    return (await res.json()) as Record<string, unknown>;
  }

  /** The app of alice/caller calls the hubapps API with its own token, as alice's process. */
  async function appCalls(method: string, path: string, body?: unknown): Promise<Answer> {
    const q = encodeURIComponent(JSON.stringify({ method, path, body }));
    return (await appGet(alice, 'caller', `/call?q=${q}`)) as unknown as Answer;
  }

  it('gives the app the JUPYTERHUB_* variables, the host environment and the kept variables', async () => {
    const env = await appGet(alice, 'caller', '/env');
    assert.equal(env.JUPYTERHUB_USER, alice);
    assert.equal(env.JUPYTERHUB_SERVER_NAME, 'caller');
    assert.equal(env.JUPYTERHUB_BASE_URL, '/');
    assert.equal(env.JUPYTERHUB_SERVICE_PREFIX, `/apps/${alice}/caller/`);
    assert.equal(env.JUPYTERHUB_API_URL, stack.apiUrl);
    assert.equal(env.JUPYTERHUB_ACTIVITY_URL, `${stack.apiUrl}/users/${alice}/activity`);
    assert.equal(env.JUPYTERHUB_GROUP, TEST_GROUP);
    assert.match(token, /^ha_[A-Za-z0-9_-]{32}$/);
    assert.equal(env.SITE_NAME, 'test-site');
    assert.equal(env.T_SITE_PROXY, 'http://proxy.example:3128');
    assert.equal(env.T_NOT_KEPT, undefined, 'only the env_keep names leave the service');
  });

  it('never puts the token on a command line or into a log', () => {
    const logs = join(stack.stateDir, 'logs');
    for (const file of readdirSync(logs, { recursive: true, withFileTypes: true }))
      if (file.isFile())
        assert.ok(
          !readFileSync(join(file.parentPath, file.name), 'utf8').includes(token),
          `${file.name} holds the token`,
        );
    assert.ok(!allProcesses().some((p) => p.argv.join(' ').includes(token)), 'an argv holds it');
    assert.ok(!stack.service!.output().includes(token), "the service's output holds it");
  });

  it("keeps the token from other local accounts: bob cannot read the environment of alice's app or proxy", async () => {
    const row = stack.row(alice, 'caller')!;
    const environ = (user: string, pid: number) =>
      run('runuser', ['-u', user, '--', 'cat', `/proc/${pid}/environ`]);
    const own = await environ(alice, row.app_pid!);
    assert.equal(own.code, 0, own.stderr);
    assert.ok(own.stdout.includes(`JUPYTERHUB_API_TOKEN=${token}`), 'alice reads her own app');
    for (const pid of [row.app_pid!, row.proxy_pid!]) {
      const theirs = await environ(bob, pid);
      assert.notEqual(theirs.code, 0);
      assert.match(theirs.stderr, /Permission denied/);
      assert.ok(!theirs.stdout.includes(token));
    }
  });

  it('lets the app call the hubapps API as its user: who it is, and its own server', async () => {
    const me = await appCalls('GET', '/user');
    assert.equal(me.status, 200, JSON.stringify(me.body));
    assert.deepEqual(
      { name: me.body.name, admin: me.body.admin, via: me.body.via, server: me.body.server },
      { name: alice, admin: false, via: 'server_token', server: 'caller' },
    );
    const own = await appCalls('GET', `/users/${alice}/servers/caller`);
    assert.equal(own.status, 200, JSON.stringify(own.body));
    assert.equal(own.body.state, 'running');
  });

  it("refuses the token on another user's server, on its owner's other servers, and for tokens, starts, shares and removal", async () => {
    await stack.startServer(bob, 'web', 'web');
    await stack.startServer(alice, 'web', 'web');
    const refusals: Array<[string, string, unknown, number, string]> = [
      ['GET', `/users/${bob}/servers/web`, undefined, 403, 'server_token_scope'],
      ['DELETE', `/users/${bob}/servers/web`, undefined, 403, 'server_token_scope'],
      ['GET', `/users/${alice}/servers/web`, undefined, 403, 'server_token_scope'],
      ['DELETE', `/users/${alice}/servers/web`, undefined, 403, 'server_token_scope'],
      ['GET', `/users/${alice}`, undefined, 403, 'server_token_scope'],
      ['POST', `/users/${alice}/servers/more`, { app: 'web' }, 403, 'server_token_scope'],
      ['POST', `/users/${alice}/tokens`, { note: 'escape' }, 403, 'server_token_scope'],
      ['GET', `/users/${alice}/tokens`, undefined, 403, 'server_token_scope'],
      ['POST', `/users/${alice}/servers/caller/shares`, { user: bob }, 403, 'server_token_scope'],
      ['DELETE', `/users/${alice}/servers/caller`, { remove: true }, 403, 'server_token_scope'],
      ['GET', '/users', undefined, 403, 'server_token_scope'],
      [
        'POST',
        `/users/${bob}/activity`,
        { servers: { web: { last_activity: new Date().toISOString() } } },
        403,
        'server_token_scope',
      ],
      [
        'POST',
        `/users/${alice}/activity`,
        { servers: { web: { last_activity: new Date().toISOString() } } },
        403,
        'server_token_scope',
      ],
    ];
    for (const [method, path, body, status, code] of refusals) {
      const r = await appCalls(method, path, body);
      assert.deepEqual(
        { status: r.status, code: r.body?.code },
        { status, code },
        `${method} ${path}: ${JSON.stringify(r.body)}`,
      );
      assert.equal(typeof r.body.message, 'string');
    }
    assert.equal(stack.row(alice, 'more'), undefined, 'no server was started');
    assert.equal(stack.row(bob, 'web')?.state, 'running');
    assert.equal(stack.row(alice, 'web')?.state, 'running');
  });

  it("opens its own server's proxy but not bob's, nor its owner's other server", async () => {
    const via = (path: string) => stack.viaChp(path, { authorization: `token ${token}` });
    const own = await via(`/apps/${alice}/caller/env`);
    assert.equal(own.status, 200, await own.text());
    for (const path of [`/apps/${bob}/web/`, `/apps/${alice}/web/`]) {
      const r = await via(path);
      assert.equal(r.status, 403, `${path}: ${await r.text()}`);
    }
  });

  it('refuses activity from the future and malformed activity with 400, naming the field', async () => {
    const future = new Date(Date.now() + 3600_000).toISOString();
    const early = await appCalls('POST', `/users/${alice}/activity`, { last_activity: future });
    assert.equal(early.status, 400);
    assert.match(early.body.message!, /in the future/);
    const bad = await appCalls('POST', `/users/${alice}/activity`, {
      servers: { caller: { last_activity: 'yesterday' } },
    });
    assert.equal(bad.status, 400);
    assert.match(bad.body.message!, /servers\.caller\.last_activity/);
  });

  it('names the owner to the app and drops what a client claims in X-Hubapps-* headers', async () => {
    const seen = await stack.viaChp(`/apps/${alice}/caller/headers`, {
      authorization: `token ${stack.adminToken}`,
      'X-Hubapps-User': 'mallory',
      'X-Hubapps-Owner': 'mallory',
    });
    const headers = (await seen.json()) as Record<string, string>;
    assert.equal(headers['x-hubapps-owner'], alice);
    assert.ok(!JSON.stringify(headers).includes('mallory'), JSON.stringify(headers));
  });

  it('defers the culling of an app that reports its activity, while an identical silent app is culled', async () => {
    await stack.startServer(alice, 'reporter', 'reporter');
    await stack.startServer(alice, 'silent', 'silent');
    const culled = await stack.waitState(alice, 'silent', ['stopped'], 20_000).catch(() => null);
    const silent = stack.row(alice, 'silent');
    assert.ok(culled, `silent app not culled: ${JSON.stringify(silent)}`);
    assert.match(silent!.reason ?? '', /culled: idle for more than 4 s/);
    // Culled after IDLE_S: the reporter, ready as long, must stay past twice that.
    await new Promise((r) => setTimeout(r, IDLE_S * 1000));
    const log = await stack.api('GET', `/users/${alice}/servers/reporter/logs?tail=20`);
    assert.equal(stack.row(alice, 'reporter')?.state, 'running', JSON.stringify(log.body));
    const r = await stack.api('GET', `/users/${alice}/servers/reporter`);
    assert.ok(Date.now() - Date.parse(r.body.last_activity) < 3000, JSON.stringify(r.body));
    await stack.api('DELETE', `/users/${alice}/servers/reporter`);
  });

  it('revokes the token of a server that ended while the service was down, before anyone can use it again', async () => {
    const row = await stack.startServer(alice, 'gone', 'caller');
    const gone = (await appGet(alice, 'gone', '/env')).JUPYTERHUB_API_TOKEN as string;
    await stack.service!.kill9();
    const pids = [row.launcher_pid!, row.proxy_pid!, row.app_pid!];
    for (const pid of pids) process.kill(pid, 'SIGKILL');
    await waitFor(() => pids.every((pid) => !isAlive(pid)) || undefined, {
      what: "the server's sudo, proxy and app to be gone",
    });
    await stack.startService();
    // Until the start-up reconcile has settled the rows, server tokens get 503; never 200.
    const statuses: number[] = [];
    await waitFor(
      async () => {
        const answer = await fetch(`${stack.apiUrl}/user`, {
          headers: { authorization: `token ${gone}` },
        });
        await answer.body?.cancel();
        statuses.push(answer.status);
        return answer.status !== 503 || undefined;
      },
      { what: 'the restarted service to settle its servers' },
    );
    assert.deepEqual(
      statuses.filter((s) => s !== 503),
      [401],
      `answers: ${statuses.join(', ')}`,
    );
    assert.match(
      stack.row(alice, 'gone')?.state ?? '',
      /^(stopped|failed)$/,
      'the first reconcile marked it gone',
    );
  });

  it('keeps the token of a running server working across a service restart, and revokes it once the server stops', async () => {
    const who = () =>
      fetch(`${stack.apiUrl}/user`, { headers: { authorization: `token ${token}` } });
    await stack.service!.stop();
    await stack.startService();
    const answer = await waitFor(
      async () => {
        const r = await who();
        if (r.status !== 503) return r;
        await r.body?.cancel();
        return undefined;
      },
      { what: 'the restarted service to settle its servers' },
    );
    assert.equal(answer.status, 200, await answer.text());
    const stopped = await stack.api('DELETE', `/users/${alice}/servers/caller`);
    assert.equal(stopped.body.state, 'stopped', JSON.stringify(stopped.body));
    const after = await who();
    assert.equal(after.status, 401, await after.text());
  });
});
