import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { waitFor } from '../helpers/wait.js';
import { TEST_USERS } from '../system/harness.js';
import { isAlive } from '../system/proc-scan.js';
import { HUB_GROUP, HubStack } from './stack.js';
import { useHubStack } from './hub-suite.js';

const { alice, bob, carol } = TEST_USERS;

/** An app that shows its environment at /env, as the app of any server would read it. */
const ENV_APP = `require('http').createServer((q, s) => {
  s.setHeader('content-type', 'application/json');
  s.end(JSON.stringify(process.env));
}).listen(+process.argv[1], '127.0.0.1');`;

const ENV_APPS = {
  env: {
    title: 'Environment',
    // Braces are doubled: a single one is placeholder syntax in the catalog.
    command: [process.execPath, '-e', ENV_APP.replace(/[{}]/g, '$&$&'), '{port}'],
    ready: { timeout: 20 },
  },
};

/** What JupyterHub 3.0 lists for a token issued with read:users:name!user and users:activity!user (it adds what they imply). */
const narrowScopes = (user: string) =>
  ['read:users:activity', 'read:users:groups', 'read:users:name', 'users:activity']
    .map((scope) => `${scope}!user=${user}`)
    .sort();

describe('e2e: server tokens issued by a real JupyterHub (jupyterhub.server_tokens_from_hub)', function () {
  this.timeout(60_000);
  const stack = new HubStack({
    hubKeys: { server_tokens_from_hub: true },
    // The admin token opens any app through its proxy, to read the app's environment.
    config: { admin_access: true },
    apps: ENV_APPS,
    // JupyterHub 3.0 lets a service issue tokens only with the unfiltered tokens scope
    // (docs/jupyterhub.md). carol is no hub user here, so the hub refuses her servers' tokens.
    // The observer may list users' tokens.
    hubConfig: `for role in c.JupyterHub.load_roles:
    if role["name"] == "hubapps-service":
        role["scopes"].append("tokens")
c.JupyterHub.load_groups[${JSON.stringify(HUB_GROUP)}].remove(${JSON.stringify(carol)})
c.Authenticator.allowed_users.discard(${JSON.stringify(carol)})
c.JupyterHub.load_roles.append({"name": "t-token-reader", "scopes": ["read:tokens"], "services": ["e2e-observer"]})
`,
  });
  useHubStack(stack, { setUpMs: 120_000 });

  const hubapps = (path: string, token: string, init: RequestInit = {}) =>
    fetch(`${stack.publicUrl}/services/hubapps/api${path}`, {
      ...init,
      headers: { authorization: `token ${token}`, 'content-type': 'application/json' },
    });
  const hub = (path: string, token: string) =>
    fetch(`${stack.hub!.apiUrl}${path}`, { headers: { authorization: `token ${token}` } });
  const hubNotes = async (user: string): Promise<string[]> => {
    const res = await hub(`/users/${user}/tokens`, stack.observerToken);
    assert.equal(res.status, 200, await res.clone().text());
    const body = (await res.json()) as { api_tokens: { note: string }[] };
    return body.api_tokens.map((t) => t.note);
  };

  async function start(user: string, name: string): Promise<string> {
    const res = await hubapps(`/users/${user}/servers/${name}`, stack.adminToken, {
      method: 'POST',
      body: JSON.stringify({ app: 'env' }),
    });
    assert.equal(res.status, 202, await res.text());
    await waitFor(() => stack.server(user, name)?.state === 'running', {
      timeout: 30_000,
      what: `${user}/${name} to run`,
    });
    const env = await fetch(`${stack.publicUrl}/apps/${user}/${name}/env`, {
      headers: { authorization: `token ${stack.adminToken}` },
    });
    assert.equal(env.status, 200, await env.clone().text());
    return ((await env.json()) as Record<string, string>).JUPYTERHUB_API_TOKEN!;
  }

  async function stop(user: string, name: string): Promise<void> {
    const res = await hubapps(`/users/${user}/servers/${name}`, stack.adminToken, {
      method: 'DELETE',
    });
    assert.ok(res.status < 300, await res.text());
    await waitFor(() => stack.server(user, name)?.state === 'stopped', {
      timeout: 20_000,
      what: `${user}/${name} to stop`,
    });
  }

  let token = '';

  it("gives the app a token the hub issued for its owner, which the hub's API accepts with only the narrow scopes", async () => {
    token = await start(alice, 'lab');
    assert.doesNotMatch(token, /^ha_/);
    const me = await hub('/user', token);
    assert.equal(me.status, 200, await me.clone().text());
    const body = (await me.json()) as { name: string; admin: boolean; scopes: string[] };
    assert.equal(body.name, alice);
    assert.deepEqual([...body.scopes].sort(), narrowScopes(alice));
    assert.deepEqual(await hubNotes(alice), [`hubapps server ${alice}/lab`]);
  });

  it("lets the app report its owner's activity to the hub but do nothing else there", async () => {
    const activity = await fetch(`${stack.hub!.apiUrl}/users/${alice}/activity`, {
      method: 'POST',
      headers: { authorization: `token ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ last_activity: new Date().toISOString() }),
    });
    assert.equal(activity.status, 200, await activity.clone().text());
    assert.equal((await hub(`/users/${bob}`, token)).status, 404, "bob's record is not visible");
    assert.equal((await hub(`/users/${alice}/tokens`, token)).status, 403, 'no reading of tokens');
    const more = await fetch(`${stack.hub!.apiUrl}/users/${alice}/tokens`, {
      method: 'POST',
      headers: { authorization: `token ${token}`, 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(more.status, 403, 'no making of tokens');
  });

  it("is this server's token at hubapps: its own server yes, another user's server no", async () => {
    const own = await hubapps(`/users/${alice}/servers/lab`, token);
    assert.equal(own.status, 200, await own.clone().text());
    const me = (await (await hubapps('/user', token)).json()) as { via: string };
    assert.equal(me.via, 'server_token');
    assert.equal((await hubapps(`/users/${bob}/servers/lab`, token)).status, 403);
  });

  it('is deleted at the hub when the server stops: the hub refuses it and lists no such token', async () => {
    await stop(alice, 'lab');
    assert.equal((await hub('/user', token)).status, 403);
    assert.deepEqual(await hubNotes(alice), []);
    assert.equal((await hubapps(`/users/${alice}/servers/lab`, token)).status, 401);
  });

  it('still starts a server when the hub refuses to issue its token: a hubapps-made token, which the hub refuses, and one warning', async () => {
    const own = await start(carol, 'lab');
    assert.match(own, /^ha_/);
    assert.equal((await hub('/user', own)).status, 403);
    assert.equal((await hubapps(`/users/${carol}/servers/lab`, own)).status, 200);
    const warnings = stack
      .service!.output()
      .match(new RegExp(`JupyterHub answered 403 when asked for a token of ${carol}`, 'g'));
    assert.equal(warnings?.length, 1);
    await stop(carol, 'lab');
  });

  const heldTokens = () => {
    const db = new Database(stack.dbFile, { readonly: true, fileMustExist: true });
    try {
      return db.prepare('SELECT token_id FROM hub_tokens').pluck().all() as string[];
    } finally {
      db.close();
    }
  };

  it('starts servers while the hub is down, and deletes a token whose server stopped then once the hub is back', async () => {
    const kept = await start(alice, 'kept');
    assert.doesNotMatch(kept, /^ha_/);
    await stack.stopHub();
    const during = await start(alice, 'during');
    assert.match(during, /^ha_/, 'a hubapps-made token while the hub is down');
    assert.match(stack.service!.output(), /JupyterHub is not reachable/);
    await stop(alice, 'kept');
    assert.equal(heldTokens().length, 1, 'the token that could not be deleted is kept');
    await stack.restartHub();
    await waitFor(async () => heldTokens().length === 0, {
      timeout: 15_000,
      interval: 250,
      what: 'reconcile to delete the token at the hub',
    });
    assert.equal((await hub('/user', kept)).status, 403);
    assert.deepEqual(await hubNotes(alice), []);
    await stop(alice, 'during');
  });

  it('deletes the token of a server that ended while the service was down, once the restarted service has noticed', async () => {
    const token = await start(alice, 'ends');
    assert.doesNotMatch(token, /^ha_/);
    const db = new Database(stack.dbFile, { readonly: true, fileMustExist: true });
    const { app_pid, proxy_pid } = db
      .prepare('SELECT app_pid, proxy_pid FROM servers WHERE user = ? AND name = ?')
      .get(alice, 'ends') as { app_pid: number; proxy_pid: number };
    db.close();
    await stack.killAndRestartService(async () => {
      process.kill(app_pid, 'SIGKILL');
      await waitFor(() => !isAlive(proxy_pid), { timeout: 10_000, what: 'the proxy to exit' });
    });
    await waitFor(
      () =>
        stack.server(alice, 'ends')?.state === 'failed' ||
        stack.server(alice, 'ends')?.state === 'stopped',
      {
        timeout: 15_000,
        what: 'reconcile to mark the server gone',
      },
    );
    await waitFor(async () => heldTokens().length === 0, {
      timeout: 15_000,
      interval: 250,
      what: 'the token to be deleted at the hub',
    });
    assert.equal((await hub('/user', token)).status, 403);
    assert.deepEqual(await hubNotes(alice), []);
  });
});

describe('e2e: server tokens with jupyterhub.server_tokens_from_hub off (the default)', function () {
  this.timeout(60_000);
  const stack = new HubStack({
    config: { admin_access: true },
    apps: ENV_APPS,
  });
  useHubStack(stack, { setUpMs: 120_000 });

  it('gives the app a token only hubapps accepts: the hub refuses it and was never asked for one', async () => {
    const api = `${stack.publicUrl}/services/hubapps/api/users/${alice}/servers/lab`;
    const admin = {
      authorization: `token ${stack.adminToken}`,
      'content-type': 'application/json',
    };
    const started = await fetch(api, { method: 'POST', headers: admin, body: '{"app":"env"}' });
    assert.equal(started.status, 202, await started.text());
    await waitFor(() => stack.server(alice, 'lab')?.state === 'running', {
      timeout: 30_000,
      what: `${alice}/lab to run`,
    });
    const env = await fetch(`${stack.publicUrl}/apps/${alice}/lab/env`, { headers: admin });
    const token = ((await env.json()) as Record<string, string>).JUPYTERHUB_API_TOKEN!;
    assert.match(token, /^ha_/);
    const atHub = await fetch(`${stack.hub!.apiUrl}/user`, {
      headers: { authorization: `token ${token}` },
    });
    assert.equal(atHub.status, 403);
    assert.equal((await fetch(api, { headers: { authorization: `token ${token}` } })).status, 200);
    assert.doesNotMatch(stack.hub!.output(), /POST \/hub\/api\/users\/[^/ ]+\/tokens/);
  });
});
