import assert from 'node:assert/strict';
import { pino } from 'pino';
import { startChp } from '../../../src/chp/chp-process.js';
import { reconcile } from '../../../src/lifecycle/reconcile.js';
import { httpFetch } from '../../helpers/http-fetch.js';
import { useLoginLink } from '../../helpers/login-link.js';
import { startLocalStack, type LocalStack } from '../../helpers/stack.js';
import { TermClient } from '../../helpers/terminal-client.js';
import { waitFor } from '../../helpers/wait.js';

const node = process.execPath;
/** Echoes method and path (no braces: the catalog reads them as placeholders); /cookies sets one host-only cookie, one for its exact host and one for the whole apps domain. */
const APP =
  "require('http').createServer((q, s) => (q.url === '/cookies' && s.setHeader('set-cookie', ['own=1; Path=/', 'exact=2; Domain=' + q.headers['x-forwarded-host'].split(':')[0] + '; Path=/', 'toss=3; Domain=apps.localhost; Path=/', 'toss2=4; Path=/; domain=.APPS.localhost']), s.end(q.method + ' ' + q.url))).listen(+process.argv[1], '127.0.0.1')";
/** What a browser's page load says. */
const NAV = { accept: 'text/html', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' };
const APPS = {
  lab: { title: 'Lab', command: [node, '-e', APP, '{port}'], ready: { timeout: 10 } },
  terminal: { title: 'Terminal', builtin: 'terminal' },
};

describe('per-server origins: each server on its own host, routed by the apps CHP (local launcher, two real CHPs)', function () {
  this.timeout(60000);
  let stack: LocalStack;
  let host: string;
  let auth: Record<string, string>;
  before(async () => {
    stack = await startLocalStack({
      apps: APPS,
      hostLayout: true,
      config: { reconcile_interval: 3600 },
    });
    auth = { authorization: `token ${stack.token}` };
    assert.equal((await stack.api('POST', '/users/alice/servers/lab', { app: 'lab' })).status, 202);
    await waitFor(
      async () => (await stack.api('GET', '/users/alice/servers/lab')).body.state === 'running',
      { timeout: 15000, what: 'alice/lab to run' },
    );
    host = `lab--alice.apps.localhost:${stack.appsChp!.port}`;
  });
  after(async () => stack?.stop());

  /** A launcher session cookie of `user`, through a login link as a browser uses it. */
  async function session(user: string): Promise<string> {
    const link = await stack.api('POST', `/users/${user}/login-links`, {});
    const res = await useLoginLink(stack.service.urls.serviceOrigin, link.body.url);
    return res.headers.get('set-cookie')!.split(';')[0]!;
  }

  it("hands out the server's own origin as its URL", async () => {
    const r = await stack.api('GET', '/users/alice/servers/lab');
    assert.equal(r.body.url, `http://${host}/`);
    assert.equal(r.body.public_url, `http://${host}/`);
  });

  it("routes the server by host name in the apps CHP, tagged as hubapps', and not in JupyterHub's CHP", async () => {
    const apps = await stack.service.deps.serverRoutes.list();
    const route = apps.get('/lab--alice.apps.localhost');
    assert.ok(route, `no host route in ${[...apps.keys()].join(', ')}`);
    assert.deepEqual(
      [route.data.hubapps, route.data.user, route.data.server],
      [true, 'alice', 'lab'],
    );
    assert.equal(
      apps.get('/')?.target,
      stack.service.urls.serviceOrigin,
      "the apps CHP's root goes to the service",
    );
    const hub = await stack.service.deps.routes.list();
    assert.ok(
      ![...hub.keys()].some((k) => k.startsWith('/apps/alice')),
      [...hub.keys()].join(', '),
    );
  });

  it('serves the app at the root of its own host, path and query untouched', async () => {
    const res = await stack.viaApps(host, '/some/path?x=1', { headers: auth });
    assert.equal(res.status, 200);
    assert.equal(res.body, 'GET /some/path?x=1');
  });

  it("answers the old path address with a redirect to the server's host, keeping path and query", async () => {
    const res = await stack.viaChp('/apps/alice/lab/notebooks/a.ipynb?kernel=1');
    assert.equal(res.status, 302);
    assert.equal(res.headers.get('location'), `http://${host}/notebooks/a.ipynb?kernel=1`);
  });

  it("sends a browser without a cookie to the launcher's authorize page, on the launcher's origin", async () => {
    const res = await stack.viaApps(host, '/x', { headers: { accept: 'text/html' } });
    assert.equal(res.status, 302);
    const to = new URL(res.headers.location!);
    assert.equal(to.origin, stack.service.urls.publicOrigin);
    assert.equal(to.pathname, '/services/hubapps/authorize');
    assert.equal(to.searchParams.get('next'), '/x');
  });

  it("grants access on the server's own host with __Host- cookies bound to the browser, and trusts no other cookie name", async () => {
    const launcher = await session('alice');
    const first = await stack.viaApps(host, '/deep', { headers: NAV });
    assert.equal(first.status, 302);
    const grantCookie = first.headers['set-cookie']![0]!;
    assert.match(
      grantCookie,
      /^__Host-hubapps-grant-\d+=[\w-]+; Path=\/; Secure; HttpOnly; SameSite=Lax; Max-Age=\d+$/,
    );
    const toAuthorize = new URL(first.headers.location!);
    const authorize = await httpFetch(
      `${stack.service.urls.serviceOrigin}${toAuthorize.pathname}${toAuthorize.search}`,
      { headers: { ...NAV, cookie: launcher } },
    );
    assert.equal(authorize.status, 302);
    const grant = new URL(authorize.headers.get('location')!);
    assert.equal(grant.host, host, "the code travels to the server's own host");
    const elsewhere = await stack.viaApps(host, grant.pathname + grant.search, { headers: NAV });
    assert.equal(
      elsewhere.status,
      403,
      'the code works only in the browser that holds the grant cookie',
    );
    const again = await httpFetch(
      `${stack.service.urls.serviceOrigin}${toAuthorize.pathname}${toAuthorize.search}`,
      { headers: { ...NAV, cookie: launcher } },
    );
    const code = new URL(again.headers.get('location')!);
    const redeemed = await stack.viaApps(host, code.pathname + code.search, {
      headers: { ...NAV, cookie: grantCookie.split(';')[0]! },
    });
    assert.equal(redeemed.status, 302);
    assert.equal(redeemed.headers.location, '/deep');
    const cookie = redeemed.headers['set-cookie']!.find(
      (c) => c.startsWith('__Host-hubapps-') && !c.startsWith('__Host-hubapps-grant-'),
    )!;
    assert.match(cookie, /^__Host-hubapps-\d+=[\w-]+; Path=\/; Secure; HttpOnly; SameSite=Lax$/);
    const pair = cookie.split(';')[0]!;
    const ok = await stack.viaApps(host, '/deep', { headers: { cookie: pair } });
    assert.equal(ok.status, 200);
    const renamed = pair.replace(/^__Host-hubapps-(\d+)/, 'hubapps-proxy-$1');
    const refused = await stack.viaApps(host, '/deep', { headers: { cookie: renamed } });
    assert.equal(
      refused.status,
      401,
      'a cookie of another name (one a sibling host could toss) is not a credential',
    );
  });

  it("refuses state-changing requests whose Origin is not the server's own, even with a valid credential", async () => {
    const sibling = await stack.viaApps(host, '/form', {
      method: 'POST',
      headers: { ...auth, origin: `http://lab--bob.apps.localhost:${stack.appsChp!.port}` },
      body: 'x=1',
    });
    assert.equal(sibling.status, 403);
    const opaque = await stack.viaApps(host, '/form', {
      method: 'POST',
      headers: { ...auth, origin: 'null' },
      body: 'x=1',
    });
    assert.equal(opaque.status, 403);
    const own = await stack.viaApps(host, '/form', {
      method: 'POST',
      headers: { ...auth, origin: `http://${host}`, referer: `http://${host}/page` },
      body: 'x=1',
    });
    assert.equal(own.status, 200);
    assert.equal(own.body, 'POST /form');
  });

  it('drops cookies the app scopes to a domain wider than its own host', async () => {
    const res = await stack.viaApps(host, '/cookies', { headers: auth });
    assert.equal(res.status, 200);
    const names = (res.headers['set-cookie'] ?? []).map((c) => c.split('=')[0]);
    assert.deepEqual(names, ['own', 'exact']);
  });

  it('never serves the launcher or the API on the apps domain', async () => {
    for (const path of [
      '/services/hubapps/',
      '/services/hubapps/api/user',
      '/services/hubapps/login',
    ]) {
      const res = await stack.viaApps(
        `nothing--alice.apps.localhost:${stack.appsChp!.port}`,
        path,
        { headers: auth },
      );
      assert.equal(res.status, 503, path);
      assert.match(res.body, /Not running|no server/i, path);
    }
  });

  it('ignores the launcher session on API requests whose Origin is a page on the apps domain', async () => {
    const cookie = await session('alice');
    const api = `${stack.service.urls.serviceOrigin}/services/hubapps/api/user`;
    assert.equal((await fetch(api, { headers: { cookie } })).status, 200);
    const fromApp = await fetch(api, {
      headers: { cookie, origin: `http://lab--bob.apps.localhost:${stack.appsChp!.port}` },
    });
    assert.equal(fromApp.status, 401);
  });

  it('sends a navigation to a stopped server on its own host to the launcher to start it there', async () => {
    const res = await stack.viaApps(`lab--bob.apps.localhost:${stack.appsChp!.port}`, '/p?q=1', {
      headers: { accept: 'text/html', 'sec-fetch-mode': 'navigate' },
    });
    assert.equal(res.status, 302);
    const to = new URL(res.headers.location!);
    assert.equal(to.origin + to.pathname, stack.service.urls.launcherUrl());
    assert.equal(
      to.searchParams.get('next'),
      `http://lab--bob.apps.localhost:${stack.appsChp!.port}/p?q=1`,
    );
    assert.equal(to.searchParams.get('user'), 'bob');
    assert.equal(to.searchParams.get('start'), 'lab');
  });

  it('puts the host routes back after the apps CHP restarts empty', async () => {
    const { port, apiPort } = stack.appsChp!;
    await stack.appsChp!.stop();
    stack.appsChp = await startChp({ port, apiPort, authToken: stack.chpToken, hostRouting: true });
    assert.equal((await stack.service.deps.serverRoutes.list()).size, 0);
    const report = await reconcile(stack.service.deps, stack.service.manager);
    assert.ok(report.routesAdded >= 2, JSON.stringify(report));
    const res = await stack.viaApps(host, '/back', { headers: auth });
    assert.equal(res.status, 200);
    assert.equal(res.body, 'GET /back');
  });

  /** CHP's entry for `path`; with `body`, sets it first, as another program would (untagged unless the body says). */
  async function rawRoute(
    apiUrl: string,
    path: string,
    body?: object,
  ): Promise<Record<string, unknown> | undefined> {
    const headers = { authorization: `token ${stack.chpToken}` };
    if (body)
      assert.equal(
        (
          await fetch(`${apiUrl}/api/routes${path}`, {
            method: 'POST',
            headers,
            body: JSON.stringify(body),
          })
        ).status,
        201,
      );
    const res = await fetch(`${apiUrl}/api/routes`, { headers });
    return ((await res.json()) as Record<string, Record<string, unknown>>)[path];
  }

  /** reconcile, `passes` times, with a logger that keeps what it logs. */
  async function reconcileLogged(
    passes: number,
  ): Promise<{ level: number; msg: string; err?: string }[]> {
    const lines: { level: number; msg: string; err?: string }[] = [];
    const log = pino(
      { level: 'debug' },
      { write: (line: string) => void lines.push(JSON.parse(line)) },
    );
    for (let i = 0; i < passes; i++)
      await reconcile({ ...stack.service.deps, log }, stack.service.manager);
    return lines;
  }

  it('leaves the apps CHP\'s own "/" (its --default-target, as the shipped unit starts it) alone, without a warning', async () => {
    const { port, apiPort } = stack.appsChp!;
    await stack.appsChp!.stop();
    stack.appsChp = await startChp({
      port,
      apiPort,
      authToken: stack.chpToken,
      hostRouting: true,
      defaultTarget: stack.service.urls.serviceOrigin,
    });
    const lines = await reconcileLogged(3);
    assert.deepEqual(
      lines.filter((l) => l.level >= 40),
      [],
      'nothing to warn about',
    );
    const root = await rawRoute(stack.appsChp.apiUrl, '/');
    assert.deepEqual(
      [root?.target, root?.hubapps],
      [stack.service.urls.serviceOrigin, undefined],
      "CHP's own route stays CHP's",
    );
    assert.equal(
      (await stack.viaApps(host, '/again', { headers: auth })).body,
      'GET /again',
      'the server route is back',
    );
  });

  it('warns once about a route another program holds where hubapps needs one, naming the owner, until it changes', async () => {
    const path = stack.service.urls.catchallRoute().replace(/\/+$/, '');
    assert.equal((await rawRoute(stack.chp.apiUrl, path))?.hubapps, true);
    // JupyterHub's route over hubapps' (CHP's POST replaces): as a hub whose prefixes collide would.
    await rawRoute(stack.chp.apiUrl, path, { target: 'http://127.0.0.1:9', jupyterhub: true });
    const warned = (await reconcileLogged(3)).filter((l) => l.level >= 40);
    assert.equal(warned.length, 1, JSON.stringify(warned));
    assert.match(warned[0]!.err ?? '', /JupyterHub owns it .*apps_prefix/);
    await fetch(`${stack.chp.apiUrl}/api/routes${path}`, {
      method: 'DELETE',
      headers: { authorization: `token ${stack.chpToken}` },
    });
    assert.deepEqual(
      (await reconcileLogged(1)).filter((l) => l.level >= 40),
      [],
    );
    assert.equal(
      (await rawRoute(stack.chp.apiUrl, path))?.hubapps,
      true,
      'hubapps put its own route back once the path was free',
    );
  });

  it('runs the built-in terminal on its own host, its WebSocket open to its own pages only', async () => {
    assert.equal(
      (await stack.api('POST', '/users/alice/servers/terminal', { app: 'terminal' })).status,
      202,
    );
    await waitFor(
      async () =>
        (await stack.api('GET', '/users/alice/servers/terminal')).body.state === 'running',
      { timeout: 15000, what: 'the terminal to run' },
    );
    const termHost = `terminal--alice.apps.localhost:${stack.appsChp!.port}`;
    const page = await stack.viaApps(termHost, '/', { headers: auth });
    assert.equal(page.status, 200);
    assert.match(page.body, /<title>Terminal<\/title>/);
    const url = `ws://127.0.0.1:${stack.appsChp!.port}/socket`;
    await assert.rejects(
      TermClient.open(url, {
        headers: {
          ...auth,
          host: termHost,
          origin: `http://lab--alice.apps.localhost:${stack.appsChp!.port}`,
        },
      }),
      (err: { status?: number }) => err.status === 403,
    );
    const term = await TermClient.open(url, {
      headers: { ...auth, host: termHost, origin: `http://${termHost}` },
    });
    await term.run('echo hubapps-$((40+2))', /hubapps-42/);
    await term.close();
    await stack.api('DELETE', '/users/alice/servers/terminal');
  });

  it('removes the host route when the server stops, and the host then shows the not-running page', async () => {
    assert.equal((await stack.api('DELETE', '/users/alice/servers/lab')).status < 300, true);
    assert.ok(!(await stack.service.deps.serverRoutes.list()).has('/lab--alice.apps.localhost'));
    const res = await stack.viaApps(host, '/', { headers: auth });
    assert.equal(res.status, 503);
    assert.match(res.body, /not running/);
  });
});
