import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import os from 'node:os';
import { HubappsError } from '../../../src/errors.js';
import type { Account, UserChecker } from '../../../src/users/account.js';
import { launcherSession, NAV, writeAppScript } from '../../helpers/browser-steps.js';
import { startLocalStack, type ApiAnswer, type LocalStack } from '../../helpers/stack.js';
import { waitFor } from '../../helpers/wait.js';

const APP_SOURCE = `require('http').createServer((q, s) => s.end('app of ' + require('os').userInfo().username)).listen(+process.argv[2], '127.0.0.1');`;
const SPAWNER_TOKEN = crypto.randomBytes(24).toString('base64url');
const ENV = `HUBAPPS_T_SPAWNER_${process.pid}`;

/** What HubappsSpawner sends for alice's server `server` (the hub's names: alice@example.org). */
function hubBody(server: string, extra: Record<string, unknown> = {}) {
  const prefix = server === '' ? '/user/alice@example.org/' : `/user/alice@example.org/${server}/`;
  return {
    app: 'hello',
    hub: {
      server,
      prefix,
      api_url: 'http://127.0.0.1:1/hub/api/',
      authorize_path: '/hub/api/oauth2/authorize',
      api_token: 'the-hubs-token-for-this-server',
      client_id: `jupyterhub-user-alice-${server}`,
      callback_path: `${prefix}oauth_callback`,
      access_scopes: [`access:servers!server=alice@example.org/${server}`],
    },
    start_timeout: 30,
    ...extra,
  };
}

/** Local mode takes every name: here alice is in the allowed group and bob is not. */
function membership(stack: LocalStack): void {
  const users = stack.service.deps.users as UserChecker;
  const lookup = users.check.bind(users);
  users.check = async (name: string): Promise<Account> => {
    if (name !== 'alice')
      throw new HubappsError('user_not_in_group', `user ${name} is not a member of group local`);
    return lookup(name);
  };
}

const gone = (pid: number) => {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
};

describe('api: the spawner API for JupyterHub (real service, local launcher, real proxy and CHP)', function () {
  this.timeout(60000);
  let stack: LocalStack;
  let script: ReturnType<typeof writeAppScript>;
  const alice = '/hub/users/alice%40example.org';
  const spawner = (method: string, path: string, body?: unknown, token = SPAWNER_TOKEN) =>
    stack.api(method, path, body, { authorization: `token ${token}` });
  const chpRoutes = async (): Promise<string[]> => {
    const res = await fetch(`${stack.chp.apiUrl}/api/routes`, {
      headers: { authorization: `token ${stack.chpToken}` },
    });
    return Object.keys((await res.json()) as Record<string, unknown>);
  };
  const refused = (r: ApiAnswer, status: number, code: string, message?: RegExp) => {
    assert.equal(r.status, status, JSON.stringify(r.body));
    assert.equal(r.body.code, code, JSON.stringify(r.body));
    if (message) assert.match(r.body.message, message);
  };

  before(async () => {
    process.env[ENV] = SPAWNER_TOKEN;
    script = writeAppScript(APP_SOURCE);
    stack = await startLocalStack({
      apps: {
        hello: { title: 'Hello', command: [process.execPath, script.file, '{port}'] },
      },
      config: {
        reconcile_interval: 3600,
        jupyterhub: {
          spawner_token: `env:${ENV}`,
          usernames: 'mapped',
          username_map: { 'alice@example.org': 'alice', 'bob@example.org': 'bob' },
        },
      },
    });
    membership(stack);
  });
  after(async () => {
    await stack?.stop();
    script?.remove();
    delete process.env[ENV];
  });

  it('lists the apps the hub user may start, for the options form', async () => {
    const r = await spawner('GET', `${alice}/apps`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(
      r.body.apps.map((a: { name: string; usable: boolean }) => [a.name, a.usable]),
      [['hello', true]],
    );
  });

  it('starts a hub server: hub-bound row, progress to running, its proxy on TCP at hub_target, no CHP route, stopped with nothing left', async () => {
    const started = await spawner('POST', `${alice}/servers/default`, hubBody(''));
    assert.equal(started.status, 202, JSON.stringify(started.body));
    assert.equal(started.body.url, '/user/alice@example.org/');
    const progress = await fetch(
      `${stack.service.urls.serviceOrigin}${started.body.progress_url}`,
      { headers: { authorization: `token ${SPAWNER_TOKEN}` } },
    );
    assert.equal(progress.status, 200);
    const events = await progress.text();
    assert.match(events, /event: done\ndata: .*"state":"running"/);

    const row = stack.service.deps.store.get('alice', 'default')!;
    assert.equal(row.hub_user, 'alice@example.org');
    assert.equal(row.hub_server, '');
    assert.equal(row.hub_prefix, '/user/alice@example.org/');
    assert.ok(row.app_port && row.port && row.app_port !== row.port);
    assert.ok(
      !JSON.stringify(row).includes('the-hubs-token-for-this-server'),
      "the hub's token is stored",
    );

    const got = await spawner('GET', `${alice}/servers/default`);
    assert.equal(got.status, 200);
    assert.equal(got.body.state, 'running');
    assert.equal(got.body.hub_target, `http://127.0.0.1:${row.port}`);
    // The proxy answers there (it sends a browser without credentials elsewhere), the app on its own port.
    const viaProxy = await fetch(`${got.body.hub_target}/user/alice@example.org/`, {
      redirect: 'manual',
    });
    assert.ok([302, 401, 403].includes(viaProxy.status), `proxy answered ${viaProxy.status}`);
    assert.equal(
      await (await fetch(`http://127.0.0.1:${row.app_port}/`)).text(),
      `app of ${os.userInfo().username}`,
    );

    const routes = await chpRoutes();
    assert.ok(!routes.some((r) => r.includes('alice')), `hubapps routed it: ${routes.join(' ')}`);

    const stopped = await spawner('DELETE', `${alice}/servers/default`);
    assert.equal(stopped.status, 200, JSON.stringify(stopped.body));
    assert.equal(stopped.body.state, 'stopped');
    const ended = stack.service.deps.store.get('alice', 'default')!;
    assert.ok(ended.proxy_pid && ended.app_pid);
    await waitFor(() => gone(ended.proxy_pid!) && gone(ended.app_pid!), {
      timeout: 15000,
      what: "the hub server's processes to end",
    });
    await assert.rejects(fetch(`http://127.0.0.1:${row.port}/`), 'the proxy still listens');
    assert.equal((await spawner('GET', `${alice}/servers/default`)).body.hub_target, null);
  });

  it('keeps the hub binding across a restart of the service, and reconcile adds no route for it', async () => {
    const started = await spawner('POST', `${alice}/servers/lab`, hubBody('lab'));
    assert.equal(started.status, 202, JSON.stringify(started.body));
    await waitFor(
      async () => (await spawner('GET', `${alice}/servers/lab`)).body.state === 'running',
      {
        timeout: 15000,
        what: 'alice/lab to run',
      },
    );
    await stack.restartService();
    membership(stack);
    const after = await waitFor(
      async () => {
        const r = await spawner('GET', `${alice}/servers/lab`);
        return r.body.state === 'running' && r.body.hub_target ? r : undefined;
      },
      { timeout: 15000, what: 'the restarted service to report the hub server' },
    );
    const row = stack.service.deps.store.get('alice', 'lab')!;
    assert.equal(after.body.hub_target, `http://127.0.0.1:${row.port}`);
    assert.equal(row.hub_prefix, '/user/alice@example.org/lab/');
    assert.ok(!(await chpRoutes()).some((r) => r.includes('alice')));
    const stopped = await spawner('DELETE', `${alice}/servers/lab`);
    assert.equal(stopped.body.state, 'stopped');
    await waitFor(() => gone(row.proxy_pid!), {
      timeout: 15000,
      what: 'the adopted proxy to end',
    });
  });

  it("gives hubapps' own ways in no access to a hub server: its owner's session and token, a share", async () => {
    assert.equal(
      (await spawner('POST', `${alice}/servers/guarded`, hubBody('guarded'))).status,
      202,
    );
    await waitFor(
      async () => (await spawner('GET', `${alice}/servers/guarded`)).body.state === 'running',
      { timeout: 15000, what: 'alice/guarded to run' },
    );
    const row = stack.service.deps.store.get('alice', 'guarded')!;
    const token = (await stack.api('POST', '/users/alice/tokens', {})).body.token as string;
    const asked = await stack.api(
      'POST',
      '/internal/proxy-auth',
      { serverId: row.id, token },
      { authorization: `token ${row.secret}` },
    );
    refused(asked, 403, 'not_allowed', /JupyterHub/);
    const cookie = await launcherSession(stack, 'alice');
    const page = await fetch(
      `${stack.service.urls.serviceOrigin}${stack.service.urls.servicePrefix()}authorize?user=alice&server=guarded&binding=x`,
      { headers: { cookie, ...NAV }, redirect: 'manual' },
    );
    assert.equal(page.status, 403);
    assert.match(await page.text(), /Opened through JupyterHub/);
    refused(
      await stack.api(
        'POST',
        '/users/alice/servers/guarded/shares',
        { user: 'bob' },
        {
          authorization: `token ${token}`,
        },
      ),
      403,
      'sharing_disabled',
      /JupyterHub/,
    );
    assert.equal((await spawner('DELETE', `${alice}/servers/guarded`)).body.state, 'stopped');
  });

  it('refuses every credential but the spawner token, and the spawner token everywhere else', async () => {
    const path = `${alice}/servers/default`;
    refused(await stack.api('GET', path, undefined, { authorization: '' }), 401, 'unauthenticated');
    refused(await spawner('GET', path, undefined, 'not-the-token'), 401, 'unauthenticated');
    refused(await stack.api('GET', path), 403, 'spawner_only'); // the admin token
    const userToken = (await stack.api('POST', '/users/alice/tokens', {})).body.token as string;
    refused(await spawner('GET', path, undefined, userToken), 403, 'spawner_only');
    const cookie = await launcherSession(stack, 'alice');
    refused(
      await stack.api('GET', path, undefined, { authorization: '', cookie }),
      403,
      'spawner_only',
    );
    refused(await spawner('GET', '/users/alice'), 403, 'spawner_only');
    refused(await spawner('GET', '/user'), 403, 'spawner_only');
    refused(await spawner('POST', '/users/alice/servers/x', { app: 'hello' }), 403, 'spawner_only');
  });

  it('refuses hub users it cannot map, users outside the allowed group and bad bodies, writing nothing', async () => {
    const before = stack.service.deps.store.list().length;
    refused(
      await spawner('POST', '/hub/users/mallory%40example.org/servers/x', hubBody('x')),
      403,
      'user_not_allowed',
      /mallory@example.org/,
    );
    refused(await spawner('GET', '/hub/users/mallory/apps'), 403, 'user_not_allowed');
    const bob = '/hub/users/bob%40example.org';
    refused(await spawner('POST', `${bob}/servers/x`, hubBody('x')), 403, 'user_not_in_group');
    refused(await spawner('GET', `${bob}/apps`), 403, 'user_not_in_group');
    const bad: Array<[unknown, string, RegExp]> = [
      [{ app: 'hello' }, 'invalid_body', /"hub"/],
      [hubBody('x', { cmd: ['sh'] }), 'unknown_field', /'cmd'/],
      [{ ...hubBody('x'), hub: { ...hubBody('x').hub, shell: 1 } }, 'unknown_field', /'shell'/],
      [
        { ...hubBody('x'), hub: { ...hubBody('x').hub, prefix: '/user/../x/' } },
        'invalid_body',
        /hub.prefix/,
      ],
      [
        {
          ...hubBody('x'),
          hub: { ...hubBody('x').hub, callback_path: '/elsewhere/oauth_callback' },
        },
        'invalid_body',
        /hub.callback_path/,
      ],
      [
        { ...hubBody('x'), hub: { ...hubBody('x').hub, api_url: 'file:///etc/' } },
        'invalid_body',
        /hub.api_url/,
      ],
      [
        { ...hubBody('x'), hub: { ...hubBody('x').hub, access_scopes: 'all' } },
        'invalid_body',
        /hub.access_scopes/,
      ],
      [hubBody('x', { start_timeout: -1 }), 'invalid_body', /start_timeout/],
    ];
    for (const [body, code, message] of bad)
      refused(await spawner('POST', `${alice}/servers/x`, body), 400, code, message);
    refused(
      await stack.api('POST', `${alice}/servers/x`, 'app=hello', {
        authorization: `token ${SPAWNER_TOKEN}`,
        'content-type': 'application/x-www-form-urlencoded',
      }),
      415,
      'unsupported_media_type',
    );
    assert.equal(stack.service.deps.store.list().length, before, 'a row was written');
  });

  it('never acts on a server started from the launcher, nor starts a hub server twice (409)', async () => {
    const own = await stack.api('POST', '/users/alice/servers/mine', { app: 'hello' });
    assert.equal(own.status, 202, JSON.stringify(own.body));
    refused(await spawner('POST', `${alice}/servers/mine`, hubBody('mine')), 409, 'server_active');
    refused(await spawner('GET', `${alice}/servers/mine`), 409, 'not_hub_server');
    refused(await spawner('DELETE', `${alice}/servers/mine`), 409, 'not_hub_server');
    refused(await spawner('GET', `${alice}/servers/mine/progress`), 409, 'not_hub_server');
    await stack.api('DELETE', '/users/alice/servers/mine');
    // Stopped, it is still the launcher's: the hub may not take it over.
    refused(await spawner('POST', `${alice}/servers/mine`, hubBody('mine')), 409, 'not_hub_server');
    assert.equal(stack.service.deps.store.get('alice', 'mine')!.hub_user, null);

    assert.equal((await spawner('POST', `${alice}/servers/twice`, hubBody('twice'))).status, 202);
    refused(
      await spawner('POST', `${alice}/servers/twice`, hubBody('twice')),
      409,
      'server_active',
    );
    assert.equal((await spawner('DELETE', `${alice}/servers/twice`)).body.state, 'stopped');
    refused(await spawner('GET', `${alice}/servers/never`), 404, 'no_such_server');
    refused(await spawner('DELETE', `${alice}/servers/never`), 404, 'no_such_server');
  });
});
