import assert from 'node:assert/strict';
import { startChp } from '../../../src/chp/chp-process.js';
import { reconcile } from '../../../src/lifecycle/reconcile.js';
import { signCall } from '../../../src/protocol/challenge.js';
import { portLabel } from '../../../src/port-label.js';
import { hashSecret } from '../../../src/secret-hash.js';
import type { ServerRow } from '../../../src/store/servers.js';
import { httpFetch } from '../../helpers/http-fetch.js';
import { useLoginLink } from '../../helpers/login-link.js';
import { startLocalStack, type LocalStack } from '../../helpers/stack.js';
import { waitFor } from '../../helpers/wait.js';

const node = process.execPath;
const APP =
  "require('http').createServer((q, s) => s.end(q.method + ' ' + q.url)).listen(+process.argv[1], '127.0.0.1')";
const APPS = {
  lab: { title: 'Lab', command: [node, '-e', APP, '{port}'], ready: { timeout: 10 } },
  tb: {
    title: 'TensorBoard-like',
    command: [node, '-e', APP, '{port}'],
    ready: { timeout: 10 },
    ports: { ranges: ['6006'] },
  },
};
const NAV = { accept: 'text/html', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' };
const PORT_ACCESS = '/services/hubapps/api/internal/port-access';
const NONCE = 'a-grant-cookie-value';

describe("users' own ports: the service's side (per-server origins, local launcher, real SQLite and two real CHPs)", function () {
  this.timeout(90000);
  let stack: LocalStack;
  let alice: Record<string, string>;
  let bob: Record<string, string>;
  const row = (user: string, name: string): ServerRow => stack.service.deps.store.get(user, name)!;
  const service = (urlPath: string, init?: Parameters<typeof httpFetch>[1]) =>
    httpFetch(`${stack.service.urls.serviceOrigin}${urlPath}`, init);
  const portAccess = (r: ServerRow, body: object, authorization?: string) =>
    service(PORT_ACCESS, {
      method: 'POST',
      headers: {
        authorization: authorization ?? signCall(r.secret!, 'POST', PORT_ACCESS).header,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ serverId: r.id, ...body }),
    });
  const portHost = (port: number, server = 'lab', user = 'alice') =>
    `${port}--p--${server}--${user}.apps.localhost:${stack.appsChp!.port}`;
  const portRoutes = async () =>
    [...(await stack.service.deps.serverRoutes.list()).values()].filter(
      (r) => r.data.kind === 'port',
    );
  async function session(user: string): Promise<string> {
    const link = await stack.api('POST', `/users/${user}/login-links`, {});
    const res = await useLoginLink(stack.service.urls.serviceOrigin, link.body.url);
    return res.headers.get('set-cookie')!.split(';')[0]!;
  }
  async function running(user: string, name: string, app: string): Promise<void> {
    assert.equal((await stack.api('POST', `/users/${user}/servers/${name}`, { app })).status, 202);
    await waitFor(
      async () =>
        (await stack.api('GET', `/users/${user}/servers/${name}`)).body.state === 'running',
      { timeout: 15000, what: `${user}/${name} to run` },
    );
  }

  before(async () => {
    stack = await startLocalStack({
      apps: APPS,
      hostLayout: true,
      config: {
        reconcile_interval: 3600,
        admin_access: false,
        user_ports: { ranges: ['1024-9999'], max_open_per_user: 3 },
      },
    });
    alice = {
      authorization: `token ${(await stack.api('POST', '/users/alice/tokens', {})).body.token}`,
    };
    bob = {
      authorization: `token ${(await stack.api('POST', '/users/bob/tokens', {})).body.token}`,
    };
    await running('alice', 'lab', 'lab');
    await running('alice', 'tb', 'tb');
  });
  after(async () => stack?.stop());

  describe('POST api/internal/port-access', () => {
    it("answers a call signed with the server's secret with a ttl, and records the forward", async () => {
      const res = await portAccess(row('alice', 'lab'), {
        user: 'alice',
        port: 8787,
        kind: 'server',
      });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { ttl: 30 });
      const listed = await stack.api('GET', '/users/alice/servers/lab/ports', undefined, alice);
      assert.equal(listed.status, 200);
      assert.deepEqual(
        listed.body.ports.map((p: { port: number; kind: string; shared: boolean; url: string }) => [
          p.port,
          p.kind,
          p.shared,
          p.url,
        ]),
        [[8787, 'server', false, `http://${portHost(8787)}/`]],
      );
    });

    it('refuses an unsigned call, the bare secret, a wrong secret and a replay with 401, recording nothing', async () => {
      const r = row('alice', 'lab');
      const body = { user: 'alice', port: 8100, kind: 'server' };
      assert.equal((await portAccess(r, body, '')).status, 401);
      assert.equal((await portAccess(r, body, `Bearer ${r.secret}`)).status, 401);
      assert.equal(
        (
          await portAccess(
            r,
            body,
            signCall(row('alice', 'tb').secret!, 'POST', PORT_ACCESS).header,
          )
        ).status,
        401,
      );
      const signed = signCall(r.secret!, 'POST', PORT_ACCESS).header;
      assert.equal((await portAccess(r, body, signed)).status, 200);
      assert.equal((await portAccess(r, body, signed)).status, 401, 'a replay');
      const wrong = await portAccess(
        r,
        { user: 'alice', port: 8101, kind: 'server' },
        'Bearer nope',
      );
      assert.equal(((await wrong.json()) as { code: string }).code, 'proxy_unknown');
      assert.ok(
        !stack.service.deps.ports!.get(r.id, { port: 8101, kind: 'server' }),
        'nothing recorded for the unsigned call',
      );
    });

    it("refuses with the named errors: outside the ranges, outside the app's own, a host port, another user, a bad body", async () => {
      const lab = row('alice', 'lab');
      const cases: [ServerRow, object, number, string, RegExp][] = [
        [
          lab,
          { user: 'alice', port: 22, kind: 'server' },
          403,
          'port_not_allowed',
          /port 22 is not in user_ports\.ranges \(1024-9999\)/,
        ],
        [
          row('alice', 'tb'),
          { user: 'alice', port: 8787, kind: 'server' },
          403,
          'port_not_allowed',
          /not in app 'tb''s ports\.ranges \(6006\)/,
        ],
        [
          lab,
          { user: 'alice', port: 8787, kind: 'host' },
          403,
          'port_not_allowed',
          /user_ports\.host_ports/,
        ],
        [
          lab,
          { user: 'bob', port: 8787, kind: 'server' },
          403,
          'not_owner',
          /bob may not use alice's server 'lab'/,
        ],
        [
          lab,
          { user: 'alice', port: 'x', kind: 'server' },
          400,
          'invalid_body',
          /port must be a whole number/,
        ],
        [lab, { user: 'alice', port: 8787 }, 400, 'invalid_body', /kind must be/],
      ];
      for (const [r, body, status, code, words] of cases) {
        const res = await portAccess(r, body);
        const answer = (await res.json()) as { code: string; message: string };
        assert.equal(res.status, status, JSON.stringify(answer));
        assert.equal(answer.code, code);
        assert.match(answer.message, words);
      }
    });
  });

  describe('authorize for a port, and redeeming its code', () => {
    const authorize = (cookie: string, query: Record<string, string>) =>
      service(
        `/services/hubapps/authorize?${new URLSearchParams({ user: 'alice', server: 'lab', binding: hashSecret(NONCE), next: '/', ...query })}`,
        { headers: { ...NAV, cookie } },
      );
    const redeem = (code: string, port?: object) =>
      service('/services/hubapps/api/internal/redeem-grant', {
        method: 'POST',
        headers: {
          authorization: `Bearer ${row('alice', 'lab').secret}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({
          serverId: row('alice', 'lab').id,
          code,
          binding: NONCE,
          ...(port ? { port } : {}),
        }),
      });
    const codeOf = (res: Response) =>
      new URL(res.headers.get('location')!).searchParams.get('code')!;

    it("sends the code to the port's own host, where it redeems for that port alone", async () => {
      const cookie = await session('alice');
      const res = await authorize(cookie, { port: '8787', port_kind: 'server' });
      assert.equal(res.status, 302);
      const to = new URL(res.headers.get('location')!);
      assert.equal(to.host, portHost(8787));
      assert.equal(to.pathname, '/_hubapps/grant');
      const code = codeOf(res);
      assert.equal((await redeem(code)).status, 403, "not as the server's code");
      assert.equal(
        (await redeem(code, { port: 8788, kind: 'server' })).status,
        403,
        'not for another port',
      );
      const ok = await redeem(code, { port: 8787, kind: 'server' });
      assert.equal(ok.status, 200);
      assert.equal(((await ok.json()) as { user: string }).user, 'alice');
    });

    it("never redeems a server's code on a port's host", async () => {
      const cookie = await session('alice');
      const res = await authorize(cookie, {});
      assert.equal(
        new URL(res.headers.get('location')!).host,
        `lab--alice.apps.localhost:${stack.appsChp!.port}`,
      );
      const code = codeOf(res);
      const refused = await redeem(code, { port: 8787, kind: 'server' });
      assert.equal(refused.status, 403);
      assert.equal(((await refused.json()) as { code: string }).code, 'invalid_grant');
      assert.equal((await redeem(code)).status, 200);
    });

    it('refuses a malformed port (400), a port outside the policy and another user (403) with a page that says why', async () => {
      const cookie = await session('alice');
      const bad = await authorize(cookie, { port: '87x', port_kind: 'server' });
      assert.equal(bad.status, 400);
      assert.match(await bad.text(), /port must be a whole number/);
      const kind = await authorize(cookie, { port: '8787', port_kind: 'other' });
      assert.equal(kind.status, 400);
      const outside = await authorize(cookie, { port: '22', port_kind: 'server' });
      assert.equal(outside.status, 403);
      assert.match(await outside.text(), /port 22 is not in user_ports\.ranges/);
      const bobs = await authorize(await session('bob'), { port: '8787', port_kind: 'server' });
      assert.equal(bobs.status, 403);
    });
  });

  describe('the ports API', () => {
    it('lists the recorded forwards (state unknown from a proxy without the listing), to the owner and not to others', async () => {
      const mine = await stack.api('GET', '/users/alice/servers/lab/ports', undefined, alice);
      assert.equal(mine.status, 200);
      const p = mine.body.ports.find((e: { port: number }) => e.port === 8787);
      assert.ok(p, JSON.stringify(mine.body));
      assert.ok(['unknown', 'closed'].includes(p.state), p.state);
      assert.equal(p.command, null);
      const theirs = await stack.api('GET', '/users/alice/servers/lab/ports', undefined, bob);
      assert.equal(theirs.status, 403);
      assert.equal(theirs.body.code, 'not_owner');
    });

    it('answers a bad port with 400 JSON, an unknown server with 404 and a forward never opened with 404', async () => {
      const bad = await stack.api(
        'PATCH',
        '/users/alice/servers/lab/ports/0',
        { shared: true },
        alice,
      );
      assert.equal(bad.status, 400);
      assert.equal(bad.body.code, 'invalid_query');
      assert.match(bad.body.message, /port must be a whole number from 1 to 65535/);
      const word = await stack.api(
        'DELETE',
        '/users/alice/servers/lab/ports/abc',
        undefined,
        alice,
      );
      assert.equal(word.status, 400);
      const none = await stack.api('GET', '/users/alice/servers/nope/ports', undefined, alice);
      assert.equal(none.status, 404);
      assert.equal(none.body.code, 'no_such_server');
      const never = await stack.api(
        'DELETE',
        '/users/alice/servers/lab/ports/9999',
        undefined,
        alice,
      );
      assert.equal(never.status, 404);
      assert.equal(never.body.code, 'no_such_port');
    });

    it('lets only the owner share a port, with a validated body', async () => {
      const path = '/users/alice/servers/lab/ports/8787';
      assert.equal(
        (await stack.api('PATCH', path, { shared: 'yes' }, alice)).body.code,
        'invalid_body',
      );
      assert.equal(
        (await stack.api('PATCH', path, { shared: true, x: 1 }, alice)).body.code,
        'unknown_field',
      );
      assert.equal((await stack.api('PATCH', path, { shared: true }, bob)).status, 403);
      assert.equal(
        (await stack.api('PATCH', path, { shared: true })).status,
        403,
        'not the admin token either',
      );
      const shared = await stack.api('PATCH', path, { shared: true }, alice);
      assert.equal(shared.status, 200, JSON.stringify(shared.body));
      assert.equal(shared.body.shared, true);
      assert.equal(
        stack.service.deps.ports!.get(row('alice', 'lab').id, { port: 8787, kind: 'server' })
          ?.shared,
        1,
      );
      const outside = await stack.api(
        'PATCH',
        '/users/alice/servers/lab/ports/22',
        { shared: true },
        alice,
      );
      assert.equal(outside.status, 403);
      assert.equal(outside.body.code, 'port_not_allowed');
    });
  });

  describe("a port's own host in the apps CHP", () => {
    it("routes it on its first visit to the server's proxy, and sends the browser to the same address again", async () => {
      const before = await portRoutes();
      assert.ok(!before.some((r) => r.path === `/8787--p--lab--alice.apps.localhost`));
      const res = await stack.viaApps(portHost(8787), '/dash?x=1', { headers: NAV });
      assert.equal(res.status, 307);
      assert.equal(res.headers.location, `http://${portHost(8787)}/dash?x=1`);
      const route = (await portRoutes()).find(
        (r) => r.path === '/8787--p--lab--alice.apps.localhost',
      );
      assert.ok(route, JSON.stringify(await portRoutes()));
      assert.deepEqual(
        [
          route.data.user,
          route.data.server,
          route.data.port,
          route.data.portKind,
          route.data.serverId,
        ],
        ['alice', 'lab', 8787, 'server', row('alice', 'lab').id],
      );
      const lab = (await stack.service.deps.serverRoutes.list()).get('/lab--alice.apps.localhost');
      assert.equal(route.target, lab?.target, "the server's own proxy");
      const again = await stack.viaApps(portHost(8787), '/dash', { headers: NAV });
      assert.notEqual(again.status, 307, 'now the proxy answers, not the service');
    });

    it('answers an unknown server with 404 and a port outside the policy with 403, adding no route', async () => {
      const unknown = await stack.viaApps(portHost(8787, 'nothing'), '/', { headers: NAV });
      assert.equal(unknown.status, 404);
      const outside = await stack.viaApps(portHost(6007, 'tb'), '/', { headers: NAV });
      assert.equal(outside.status, 403);
      assert.match(outside.body, /not in app 'tb''s ports\.ranges/);
      assert.ok(!(await portRoutes()).some((r) => r.data.server !== 'lab'));
    });

    it("keeps a recorded forward's route through reconcile, drops an unrecorded one, and puts it back after the apps CHP restarts", async () => {
      await stack.viaApps(portHost(8500), '/', { headers: NAV });
      assert.ok((await portRoutes()).some((r) => r.data.port === 8500));
      await reconcile(stack.service.deps, stack.service.manager);
      const kept = (await portRoutes()).map((r) => r.data.port);
      assert.ok(kept.includes(8787), 'the recorded forward stays');
      assert.ok(!kept.includes(8500), 'a host nobody was let into goes');
      const { port, apiPort } = stack.appsChp!;
      await stack.appsChp!.stop();
      stack.appsChp = await startChp({
        port,
        apiPort,
        authToken: stack.chpToken,
        hostRouting: true,
      });
      assert.equal((await portRoutes()).length, 0);
      await reconcile(stack.service.deps, stack.service.manager);
      assert.deepEqual(
        (await portRoutes()).map((r) => r.data.port).sort(),
        stack.service.deps
          .ports!.forServer(row('alice', 'lab').id)
          .map((p) => p.port)
          .sort(),
      );
    });

    it('finds a server with a hashed label by its exact names, and answers its port host with the not-running page once it stops', async () => {
      await running('alice', 'my_lab', 'lab');
      const label = portLabel('alice', 'my_lab', 8787, 'server');
      assert.equal(label.split('--').length, 5, 'the hashed form');
      const hashed = `${label}.apps.localhost:${stack.appsChp!.port}`;
      const res = await stack.viaApps(hashed, '/', { headers: NAV });
      assert.equal(res.status, 307);
      assert.ok((await portRoutes()).some((r) => r.data.server === 'my_lab'));
      assert.equal(
        (await stack.api('DELETE', '/users/alice/servers/my_lab', undefined, alice)).status,
        200,
      );
      assert.ok(
        !(await portRoutes()).some((r) => r.data.server === 'my_lab'),
        'its route went with the stop',
      );
      const stopped = await stack.viaApps(hashed, '/', { headers: { accept: 'application/json' } });
      assert.equal(stopped.status, 503);
    });

    it('limits the routes first visits add for ports nobody was let into, per server (user_ports.max_open_per_user a minute)', async () => {
      // 8500 took one of the 3 a minute above.
      for (const port of [8501, 8502])
        assert.equal((await stack.viaApps(portHost(port), '/', { headers: NAV })).status, 307);
      const refused = await stack.viaApps(portHost(8503), '/', { headers: NAV });
      assert.equal(refused.status, 429);
      assert.match(
        refused.body,
        /new port addresses of alice's server 'lab'.*user_ports\.max_open_per_user/,
      );
      assert.ok(!(await portRoutes()).some((r) => r.data.port === 8503));
      // A recorded forward is not limited (its route is there: the proxy answers, not the service).
      await stack.service.deps.serverRoutes.remove('/8787--p--lab--alice.apps.localhost');
      assert.equal((await stack.viaApps(portHost(8787), '/', { headers: NAV })).status, 307);
    });

    it('forgets a forward with its route (DELETE), and leaves no port route once the server stops', async () => {
      const res = await stack.api(
        'DELETE',
        '/users/alice/servers/lab/ports/8100',
        undefined,
        alice,
      );
      assert.equal(res.status, 204);
      assert.ok(!(await portRoutes()).some((r) => r.data.port === 8100));
      assert.ok((await portRoutes()).length > 0);
      assert.equal(
        (await stack.api('DELETE', '/users/alice/servers/lab', undefined, alice)).status,
        200,
      );
      assert.deepEqual(await portRoutes(), []);
      const stopped = await stack.viaApps(portHost(8787), '/', {
        headers: { accept: 'application/json' },
      });
      assert.equal(stopped.status, 503, 'the not-running page');
      assert.deepEqual(await portRoutes(), [], 'a stopped server gets no port route');
      await reconcile(stack.service.deps, stack.service.manager);
      assert.deepEqual(await portRoutes(), [], 'nor from reconcile');
    });
  });
});
