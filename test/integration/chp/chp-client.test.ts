import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ChpRouteTable } from '../../../src/chp/chp-client.js';
import { startChp, type RunningChp } from '../../../src/chp/chp-process.js';
import { HubappsError } from '../../../src/errors.js';
import { freePort } from '../../helpers/index.js';

const TOKEN = 'chp-client-test-token';

/** An app that names itself in every answer, so a test can tell where CHP sent a request. */
async function namedServer(
  name: string,
  handler?: (res: import('node:http').ServerResponse) => void,
): Promise<{ url: string; server: Server }> {
  const server = createServer((_req, res) => (handler ? handler(res) : res.end(name)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

async function rawChp(
  chp: RunningChp,
  method: string,
  path: string,
  body?: object,
): Promise<number> {
  const res = await fetch(`${chp.apiUrl}/api/routes${path}`, {
    method,
    headers: { Authorization: `token ${TOKEN}` },
    body: body ? JSON.stringify(body) : undefined,
  });
  await res.body?.cancel();
  return res.status;
}

async function rejectsWith(
  p: Promise<unknown>,
  code: string,
  status: number,
  message?: RegExp,
): Promise<HubappsError> {
  const err = await p.then(
    () => assert.fail(`expected HubappsError ${code}`),
    (e: unknown) => e,
  );
  assert.ok(err instanceof HubappsError, `expected a HubappsError, got ${String(err)}`);
  assert.equal(err.code, code);
  assert.equal(err.status, status);
  if (message) assert.match(err.message, message);
  return err;
}

describe('ChpRouteTable against a real configurable-http-proxy', () => {
  let chp: RunningChp;
  let table: ChpRouteTable;
  let app: { url: string; server: Server };

  before(async () => {
    chp = await startChp({ authToken: TOKEN });
    table = new ChpRouteTable({ apiUrl: chp.apiUrl, authToken: TOKEN });
    app = await namedServer('alice-app');
  });
  after(async () => {
    await chp?.stop();
    app?.server.close();
  });

  it('adds a route that CHP then proxies to the target', async () => {
    await table.add('/apps/alice/lab', app.url, {
      hubapps: true,
      kind: 'server',
      user: 'alice',
      server: 'lab',
      serverId: 7,
    });
    const res = await fetch(`${chp.proxyUrl}/apps/alice/lab/some/page`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'alice-app');
  });

  it("lists its routes keyed by CHP's path form, with their data and without CHP's last_activity", async () => {
    await table.add('/apps/alice/notes/', app.url, {
      hubapps: true,
      kind: 'server',
      user: 'alice',
      server: 'notes',
      serverId: 8,
    });
    const routes = await table.list();
    assert.deepEqual(routes.get('/apps/alice/notes'), {
      path: '/apps/alice/notes',
      target: app.url,
      data: { hubapps: true, kind: 'server', user: 'alice', server: 'notes', serverId: 8 },
    });
    assert.equal(routes.has('/apps/alice/notes/'), false);
  });

  it('removes a route, after which CHP no longer proxies to the target', async () => {
    await table.add('/apps/alice/gone', app.url, {
      hubapps: true,
      kind: 'server',
      user: 'alice',
      server: 'gone',
    });
    await table.remove('/apps/alice/gone/');
    assert.equal((await table.list()).has('/apps/alice/gone'), false);
    const res = await fetch(`${chp.proxyUrl}/apps/alice/gone/`);
    await res.body?.cancel();
    assert.equal(res.status, 404);
  });

  it('treats removing a route that does not exist as done', async () => {
    await table.remove('/apps/nobody/nothing');
  });

  it('leaves routes without hubapps: true out of list()', async () => {
    assert.equal(
      await rawChp(chp, 'POST', '/hub', { target: 'http://127.0.0.1:1', jupyterhub: true }),
      201,
    );
    assert.equal(
      await rawChp(chp, 'POST', '/apps/eve/fake', {
        target: 'http://127.0.0.1:1',
        hubapps: 'yes',
        kind: 'server',
      }),
      201,
    );
    const routes = await table.list();
    assert.equal(routes.has('/hub'), false);
    assert.equal(routes.has('/apps/eve/fake'), false);
    assert.equal(routes.has('/apps/alice/lab'), true);
  });

  it('refuses to remove a route it did not add, and the route survives', async () => {
    assert.equal(
      await rawChp(chp, 'POST', '/user/bob', { target: 'http://127.0.0.1:1', user: 'bob' }),
      201,
    );
    await rejectsWith(
      table.remove('/user/bob'),
      'chp_route_foreign',
      409,
      /will not remove the route \/user\/bob in configurable-http-proxy: another program added it \(its data: user, target http:\/\/127\.0\.0\.1:1\)/,
    );
    assert.equal(await rawChp(chp, 'GET', '/user/bob'), 200);
  });

  it('refuses to replace a route it did not add, and the route keeps its target', async () => {
    assert.equal(
      await rawChp(chp, 'POST', '/services/other', { target: 'http://127.0.0.1:2' }),
      201,
    );
    await rejectsWith(
      table.add('/services/other/', app.url, { hubapps: true, kind: 'service' }),
      'chp_route_foreign',
      409,
    );
    const res = await fetch(`${chp.apiUrl}/api/routes/services/other`, {
      headers: { Authorization: `token ${TOKEN}` },
    });
    assert.equal(((await res.json()) as { target: string }).target, 'http://127.0.0.1:2');
  });

  it("fills in a route only where CHP has none, and leaves another program's route (and its own) as they are", async () => {
    assert.equal(
      await table.addIfAbsent('/services/fill', app.url, { hubapps: true, kind: 'service' }),
      true,
    );
    assert.equal(await (await fetch(`${chp.proxyUrl}/services/fill/x`)).text(), 'alice-app');
    assert.equal(
      await table.addIfAbsent('/services/fill', 'http://127.0.0.1:3', {
        hubapps: true,
        kind: 'service',
      }),
      false,
    );
    assert.equal(await (await fetch(`${chp.proxyUrl}/services/fill/x`)).text(), 'alice-app');
    assert.equal(
      await rawChp(chp, 'POST', '/services/hubowned', {
        target: 'http://127.0.0.1:4',
        jupyterhub: true,
      }),
      201,
    );
    assert.equal(
      await table.addIfAbsent('/services/hubowned/', app.url, { hubapps: true, kind: 'service' }),
      false,
    );
    const res = await fetch(`${chp.apiUrl}/api/routes/services/hubowned`, {
      headers: { Authorization: `token ${TOKEN}` },
    });
    assert.deepEqual(
      await res
        .json()
        .then((r) => [(r as { target: string }).target, (r as { hubapps?: boolean }).hubapps]),
      ['http://127.0.0.1:4', undefined],
    );
  });

  it('replaces its own route with a new target', async () => {
    const other = await namedServer('second-app');
    try {
      await table.add('/apps/alice/move', app.url, { hubapps: true, kind: 'server' });
      await table.add('/apps/alice/move', other.url, { hubapps: true, kind: 'server' });
      assert.equal(await (await fetch(`${chp.proxyUrl}/apps/alice/move/`)).text(), 'second-app');
    } finally {
      other.server.close();
    }
  });

  it('answers reachable() without sending its route table, however many routes it holds', async () => {
    await table.add('/apps/alice/other', app.url, {
      hubapps: true,
      kind: 'server',
      user: 'alice',
      server: 'other',
      serverId: 8,
    });
    await table.reachable();
    const raw = await fetch(`${chp.apiUrl}/api/routes?inactive_since=1970-01-01T00:00:00.000Z`, {
      headers: { Authorization: `token ${TOKEN}` },
    });
    assert.deepEqual(await raw.json(), {});
    assert.ok((await table.list()).size >= 1);
  });

  it('reports a wrong token as chp_auth, naming chp.auth_token', async () => {
    const wrong = new ChpRouteTable({ apiUrl: chp.apiUrl, authToken: 'not-the-token' });
    await rejectsWith(
      wrong.list(),
      'chp_auth',
      503,
      /chp\.auth_token must equal its CONFIGPROXY_AUTH_TOKEN/,
    );
    await rejectsWith(wrong.reachable(), 'chp_auth', 503);
    await rejectsWith(
      wrong.add('/apps/x/y', app.url, { hubapps: true, kind: 'server' }),
      'chp_auth',
      503,
    );
  });
});

describe('ChpRouteTable under a burst of starts', () => {
  it('lets concurrent reachable() calls share one request, and asks again for the next one', async () => {
    let requests = 0;
    const api = createServer((_req, res) => {
      requests++;
      setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'), 50);
    });
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
    try {
      const table = new ChpRouteTable({
        apiUrl: `http://127.0.0.1:${(api.address() as AddressInfo).port}`,
        authToken: TOKEN,
      });
      await Promise.all(Array.from({ length: 10 }, () => table.reachable()));
      assert.equal(requests, 1);
      await table.reachable();
      assert.equal(requests, 2, 'a check after the last one ended asks CHP again');
    } finally {
      api.close();
    }
  });
});

describe('ChpRouteTable when configurable-http-proxy is slow, not gone', () => {
  /** An API that never answers the reachability check and answers every other call after `ms`. */
  async function slowChecks(ms: number): Promise<Server> {
    const api = createServer((req, res) => {
      if (req.url?.includes('inactive_since')) return;
      setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'), ms);
    });
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
    return api;
  }
  const tableAt = (api: Server) =>
    new ChpRouteTable({
      apiUrl: `http://127.0.0.1:${(api.address() as AddressInfo).port}`,
      authToken: TOKEN,
      timeoutMs: 300,
    });

  it('passes a check that timed out while CHP answered other calls meanwhile (a burst of starts on a busy machine)', async () => {
    const api = await slowChecks(50);
    try {
      const table = tableAt(api);
      const check = table.reachable();
      await table.list();
      await check;
    } finally {
      api.closeAllConnections();
      api.close();
    }
  });

  it('still fails a check that timed out when nothing answered meanwhile', async () => {
    const api = await slowChecks(50);
    try {
      const table = tableAt(api);
      await table.list();
      await rejectsWith(table.reachable(), 'chp_unreachable', 503);
    } finally {
      api.closeAllConnections();
      api.close();
    }
  });
});

describe('ChpRouteTable when configurable-http-proxy is not there or misbehaves', () => {
  it('reports nothing listening on the API port as chp_unreachable, naming the URL and chp.api_url', async () => {
    const apiUrl = `http://127.0.0.1:${await freePort()}`;
    const table = new ChpRouteTable({ apiUrl, authToken: TOKEN });
    await rejectsWith(table.reachable(), 'chp_unreachable', 503);
    const err = await rejectsWith(table.list(), 'chp_unreachable', 503);
    assert.equal(
      err.message,
      `configurable-http-proxy is not reachable at ${apiUrl}: is it running? (chp.api_url)`,
    );
  });

  it('gives up on an API that accepts but never answers as chp_unreachable after its timeout', async () => {
    const silent = await namedServer('silent', () => undefined);
    try {
      const table = new ChpRouteTable({ apiUrl: silent.url, authToken: TOKEN, timeoutMs: 200 });
      await rejectsWith(table.remove('/apps/a/b'), 'chp_unreachable', 503);
    } finally {
      silent.server.closeAllConnections();
      silent.server.close();
    }
  });

  it('reports any other answer as chp_error 502 with the status', async () => {
    const broken = await namedServer('broken', (res) => {
      res.statusCode = 500;
      res.end('internal trouble');
    });
    try {
      const table = new ChpRouteTable({ apiUrl: broken.url, authToken: TOKEN });
      await rejectsWith(
        table.list(),
        'chp_error',
        502,
        /answered GET \/api\/routes with 500: internal trouble/,
      );
    } finally {
      broken.server.close();
    }
  });
});
