/**
 * Users' own ports through the real hubapps-proxy (a child process, as root here: the
 * "owner" is this test's uid), with the fake service answering port-access, a real program
 * of the server listening on a second port (HTTP + WebSocket), a listener of this uid
 * outside the server, and a listener of another Unix account (a hubapps-t- test user).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { connect as netConnect } from 'node:net';
import WebSocket from 'ws';
import { CallVerifier } from '../../../../src/protocol/challenge.js';
import { signCall } from '../../../../src/protocol/challenge.js';
import { loopbackListeners } from '../../../../src/procfs/listeners.js';
import { connectChecked, PortHijacked } from '../../../../src/proxy/ports/checked-connect.js';
import type { PortListing } from '../../../../src/protocol/wire.js';
import { freePort, requireRootOrSkip, waitFor } from '../../../helpers/index.js';
import {
  Catalog,
  fetchRaw,
  NODE,
  startFakeService,
  startProxy,
  WS_MODULE,
  type FakeService,
  type RunningProxy,
} from '../../../unit/proxy/harness.js';
import { run, runOk } from '../../../system/harness-exec.js';

/** The app on argv[2]; the user's own program (HTTP + WebSocket echo) on argv[3], in the same process (so it carries the marks). */
const DASHBOARD = `
import http from 'node:http';
import { createRequire } from 'node:module';
http.createServer((req, res) => res.end('the app')).listen(Number(process.argv[2]), '127.0.0.1');
const dash = http.createServer((req, res) => {
  if (req.url.endsWith('/login-redirect')) {
    res.writeHead(302, { location: '/login', 'set-cookie': ['d=1; Path=/'] });
    return res.end();
  }
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ url: req.url, headers: req.headers }));
});
const { WebSocketServer } = createRequire(import.meta.url)(process.env.WS_MODULE);
new WebSocketServer({ server: dash }).on('connection', (ws, req) => {
  ws.send(JSON.stringify({ url: req.url, origin: req.headers.origin ?? null }));
  ws.on('message', (m) => ws.send('echo:' + m));
});
dash.listen(Number(process.argv[3]), '127.0.0.1');
`;

const TAG = process.env.HUBAPPS_TEST_TAG ?? '';
const OTHER = `hubapps-t-${TAG}portx`;
const TOKEN = { authorization: 'token alice-token' };
const ORIGIN = 'https://hub.example.org';

/** Write `bytes` on one connection and read everything until the proxy closes it or 1.5 s pass. */
function exchange(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: '127.0.0.1', port });
    let got = '';
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(got);
    };
    const timer = setTimeout(done, 1500);
    socket.on('data', (d) => (got += d.toString('latin1')));
    socket.once('close', done);
    socket.once('error', reject);
    socket.write(bytes);
  });
}

function openWs(
  url: string,
  headers: Record<string, string>,
): Promise<{ ws: WebSocket; hello: { url: string; origin: string | null } }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('message', (data) =>
      resolve({ ws, hello: JSON.parse(String(data)) as { url: string; origin: string | null } }),
    );
    ws.once('unexpected-response', (_req, res) =>
      reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })),
    );
    ws.once('error', reject);
  });
}

describe("hubapps-proxy: users' own ports", function () {
  let catalog: Catalog;
  let service: FakeService;
  let proxy: RunningProxy;
  let dashPort: number;
  let mine: Server;
  let minePort: number;
  let foreign: ChildProcess | undefined;
  let foreignPort: number;
  let base: string;

  before(async function () {
    requireRootOrSkip(this, 'needs root: a listener of another Unix account (useradd, setpriv)');
    await run('userdel', [OTHER]);
    await runOk('useradd', ['--no-create-home', '--shell', '/usr/sbin/nologin', OTHER]);
    catalog = await Catalog.create();
    service = await startFakeService();
    dashPort = await freePort();
    const script = catalog.file('dashboard.mjs', DASHBOARD);
    catalog.app(
      'term',
      [
        'title: Term',
        `command: [${JSON.stringify(NODE)}, ${JSON.stringify(script)}, "{port}", "${dashPort}"]`,
        `environment: ${JSON.stringify({ WS_MODULE })}`,
        'ready: {path: /}',
        '',
      ].join('\n'),
    );
    proxy = await startProxy({
      catalog,
      app: 'term',
      service,
      revalidateMs: 1000,
      ports: {
        ranges: [[1024, 65535]],
        hostPorts: true,
        cors: [{ ports: [dashPort, dashPort], origins: ['https://site.example.com'] }],
      },
    });
    await proxy.ready();
    base = `/apps/alice/term/ports/${dashPort}/`;
    mine = createServer((_req, res) => res.end('mine'));
    await new Promise<void>((r) => mine.listen({ host: '127.0.0.1', port: 0 }, r));
    minePort = (mine.address() as { port: number }).port;
    foreignPort = await freePort();
    foreign = spawn('setpriv', [
      `--reuid=${OTHER}`,
      `--regid=${OTHER}`,
      '--clear-groups',
      '--',
      NODE,
      '-e',
      `require('http').createServer((q, s) => s.end('theirs')).listen(${foreignPort}, '127.0.0.1')`,
    ]);
    await waitFor(async () => (await loopbackListeners(foreignPort)).length > 0, {
      what: `the other account's listener on ${foreignPort}`,
    });
  });

  after(async () => {
    if (foreign?.pid !== undefined && foreign.exitCode === null) foreign.kill('SIGKILL');
    mine?.close();
    await proxy?.kill();
    await service?.close().catch(() => undefined);
    await catalog?.remove();
    if (process.getuid?.() === 0) await run('userdel', [OTHER]);
  });

  it('forwards HTTP to the port with the prefix stripped and X-Forwarded-Prefix set', async () => {
    const a = await proxy.get(`${base}some/page?q=1`, TOKEN);
    assert.equal(a.status, 200, a.body);
    const seen = JSON.parse(a.body) as { url: string; headers: Record<string, string> };
    assert.equal(seen.url, '/some/page?q=1');
    assert.equal(seen.headers['x-forwarded-prefix'], `/apps/alice/term/ports/${dashPort}`);
    assert.equal(seen.headers.authorization, undefined, 'the token does not reach the program');
    const call = service.portAccess.at(-1)!;
    assert.deepEqual(call.body, { serverId: 7, user: 'alice', port: dashPort, kind: 'server' });
    assert.equal(
      new CallVerifier(proxy.spec.secret).verify(
        'POST',
        '/services/hubapps/api/internal/port-access',
        call.authorization,
      ) !== undefined,
      true,
      'port-access is a call signed with the server secret',
    );
  });

  it('keeps the full path under ports/absolute/PORT/ and confines redirects and cookies', async () => {
    const kept = await proxy.get(`/apps/alice/term/ports/absolute/${dashPort}/x`, TOKEN);
    assert.equal(
      (JSON.parse(kept.body) as { url: string }).url,
      `/apps/alice/term/ports/absolute/${dashPort}/x`,
    );
    const r = await proxy.get(`${base}login-redirect`, TOKEN);
    assert.equal(r.status, 302);
    assert.equal(r.headers.location, `/apps/alice/term/ports/${dashPort}/login`);
    assert.deepEqual(r.headers['set-cookie'], [`d=1; Path=/apps/alice/term/ports/${dashPort}/`]);
  });

  it("counts use of a port as the server's activity (the idle culler sees it)", async () => {
    const before = (await proxy.report()).lastActivity;
    await new Promise((r) => setTimeout(r, 20));
    assert.equal((await proxy.get(`${base}tick`, TOKEN)).status, 200);
    const after = (await proxy.report()).lastActivity;
    assert.ok(after !== null && (before === null || after > before), `${before} -> ${after}`);
  });

  it('redirects ports/PORT without its slash to the slash form', async () => {
    const r = await proxy.get(`/apps/alice/term/ports/${dashPort}?a=1`, TOKEN);
    assert.equal(r.status, 302);
    assert.equal(r.headers.location, `/apps/alice/term/ports/${dashPort}/?a=1`);
  });

  it('carries WebSockets to the port, and refuses them from a foreign Origin', async () => {
    const url = `ws://127.0.0.1:${proxy.spec.port}${base}live`;
    const { ws, hello } = await openWs(url, { ...TOKEN, origin: ORIGIN });
    assert.equal(hello.url, '/live');
    const echoed = new Promise((r) => ws.once('message', (d) => r(String(d))));
    ws.send('ping');
    assert.equal(await echoed, 'echo:ping');
    ws.close();
    await assert.rejects(openWs(url, { ...TOKEN, origin: 'https://evil.example' }), {
      status: 403,
    });
  });

  it('lets no later request on a connection ride on an earlier one: after a let-in request, a refused upgrade, a refused request (the wire)', async () => {
    const sneak = `GET ${base}sneak HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;
    const lead = {
      'after a request let in by its token': `GET ${base}first HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: token alice-token\r\n\r\n`,
      'after an upgrade refused for its Origin': `GET ${base}live HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: token alice-token\r\nOrigin: https://evil.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
      'after a request refused for want of a credential': `GET ${base}nothing HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`,
    };
    for (const [what, first] of Object.entries(lead)) {
      const wire = await exchange(proxy.spec.port, first + sneak);
      assert.ok(
        !wire.includes('"url":"/sneak"'),
        `${what}: the program saw the second request: ${wire}`,
      );
      const statuses = [...wire.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((m) => m[1]);
      assert.ok(statuses.length >= 1, `${what}: no answer at all`);
      if (statuses.length > 1) assert.equal(statuses[1], '401', `${what}: ${wire}`);
    }
  });

  it('closes an open WebSocket once the service no longer allows the user the port', async () => {
    const url = `ws://127.0.0.1:${proxy.spec.port}${base}live`;
    const { ws } = await openWs(url, { ...TOKEN, origin: ORIGIN });
    const closed = new Promise<void>((r) => ws.once('close', () => r()));
    service.onPortAccess(() => ({ status: 403, body: { status: 403, message: 'not shared' } }));
    try {
      await waitFor(() => ws.readyState === WebSocket.CLOSED, {
        timeout: 5000,
        what: 'the websocket to close',
      });
      await closed;
    } finally {
      service.onPortAccess((body) =>
        body.user === 'alice'
          ? { status: 200, body: { ttl: 30 } }
          : { status: 403, body: { status: 403, message: `${body.user} may not use this port` } },
      );
    }
  });

  it('tells a visitor clearly that nothing listens on a free port', async () => {
    const free = await freePort();
    const a = await proxy.get(`/apps/alice/term/ports/${free}/`, TOKEN);
    assert.equal(a.status, 404);
    assert.deepEqual(JSON.parse(a.body), {
      status: 404,
      message: `nothing listens on port ${free} in alice's server 'term' any more`,
    });
  });

  for (const form of ['host-ports', 'ports'])
    it(`refuses a port another account listens on, named as ${form}/PORT/`, async () => {
      const a = await proxy.get(`/apps/alice/term/${form}/${foreignPort}/`, TOKEN);
      assert.equal(a.status, 403, a.body);
      assert.match(a.body, new RegExp(`port ${foreignPort} is held by another account`));
      assert.doesNotMatch(a.body, /theirs/);
    });

  it("refuses another account's listener for a WebSocket too", async () => {
    const url = `ws://127.0.0.1:${proxy.spec.port}/apps/alice/term/host-ports/${foreignPort}/`;
    await assert.rejects(openWs(url, { ...TOKEN, origin: ORIGIN }), { status: 403 });
  });

  it("reaches the owner's listener outside the server only as a host port", async () => {
    const asServer = await proxy.get(`/apps/alice/term/ports/${minePort}/`, TOKEN);
    assert.equal(asServer.status, 404);
    assert.match(asServer.body, new RegExp(`host-ports/${minePort}/`));
    const asHost = await proxy.get(`/apps/alice/term/host-ports/${minePort}/`, TOKEN);
    assert.equal(asHost.status, 200);
    assert.equal(asHost.body, 'mine');
  });

  it("refuses the app's own port, the proxy's port and port 0 with clear messages", async () => {
    const report = await proxy.report();
    const appPort = (report.appTarget as { port: number }).port;
    const app = await proxy.get(`/apps/alice/term/ports/${appPort}/`, TOKEN);
    assert.equal(app.status, 403);
    assert.match(app.body, /own app port/);
    const own = await proxy.get(`/apps/alice/term/ports/${proxy.spec.port}/`, TOKEN);
    assert.match(own.body, /own proxy port/);
    const zero = await proxy.get('/apps/alice/term/ports/0/', TOKEN);
    assert.equal(zero.status, 400);
  });

  it('asks the service about every user: a refusal is shown, the program never sees the request', async () => {
    const before = service.portAccess.length;
    const admin = await proxy.get(`${base}x`, { authorization: 'token admin-token' });
    assert.equal(admin.status, 403);
    assert.match(admin.body, /root-admin may not use this port/);
    assert.equal(service.portAccess.length, before + 1);
    const bob = await proxy.get(`${base}x`, { authorization: 'token bob-token' });
    assert.equal(
      bob.status,
      403,
      'the gate refuses a token that is neither the owner’s nor an admin’s',
    );
    const none = await proxy.get(`${base}x`);
    assert.equal(none.status, 401);
  });

  it('opens nothing when the service cannot answer port-access: 503', async () => {
    service.onPortAccess(() => ({ status: 500, body: 'boom' }));
    try {
      const a = await proxy.get(`/apps/alice/term/host-ports/${minePort}/`, {
        authorization: 'token admin-token',
      });
      assert.equal(a.status, 503);
      assert.match(a.body, /cannot check access to this port right now/);
      assert.doesNotMatch(a.body, /mine/);
    } finally {
      service.onPortAccess((body) =>
        body.user === 'alice'
          ? { status: 200, body: { ttl: 30 } }
          : { status: 403, body: { status: 403, message: `${body.user} may not use this port` } },
      );
    }
  });

  it('answers CORS for an allowed origin with a token only, and nothing for others', async () => {
    const pre = await proxy.get(
      base,
      {
        origin: 'https://site.example.com',
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'authorization',
      },
      'OPTIONS',
    );
    assert.equal(pre.status, 204);
    assert.equal(pre.headers['access-control-allow-origin'], 'https://site.example.com');
    const cross = {
      origin: 'https://site.example.com',
      'sec-fetch-site': 'cross-site',
      'sec-fetch-mode': 'cors',
    };
    const withToken = await proxy.get(`${base}api`, {
      ...cross,
      ...TOKEN,
      cookie: 'tracker=1',
    });
    assert.equal(withToken.status, 200, withToken.body);
    assert.equal(withToken.headers['access-control-allow-origin'], 'https://site.example.com');
    assert.equal(withToken.headers.vary, 'Origin');
    const seen = JSON.parse(withToken.body) as { headers: Record<string, string> };
    assert.equal(seen.headers.cookie, undefined, 'cookies of a cross-site call are removed');
    const noToken = await proxy.get(`${base}api`, cross);
    assert.equal(noToken.status, 401);
    const other = await proxy.get(`${base}api`, {
      ...cross,
      origin: 'https://evil.example',
      ...TOKEN,
    });
    assert.equal(other.status, 403);
    assert.equal(other.headers['access-control-allow-origin'], undefined);
  });

  it("lists the ports the server's processes listen on, without its own ports", async () => {
    const path = '/_hubapps/ports';
    const a = await fetchRaw(proxy.spec.port, path, {
      headers: { authorization: signCall(proxy.spec.secret, 'GET', path).header },
    });
    assert.equal(a.status, 200, a.body);
    const listing = JSON.parse(a.body) as PortListing;
    assert.deepEqual(
      listing.ports.map((p) => p.port),
      [dashPort],
    );
    assert.equal(listing.ports[0]!.command, 'node');
    const unsigned = await fetchRaw(proxy.spec.port, path);
    assert.equal(unsigned.status, 401);
  });

  it('hands over a connection only when the expected account accepted it (the check after connect)', async () => {
    const attempt = (port: number) =>
      new Promise<Error | null>((resolve) =>
        connectChecked({ port, uid: process.getuid!() }, (err, socket) => {
          socket?.destroy();
          resolve(err);
        }),
      );
    assert.equal(await attempt(minePort), null);
    const err = await attempt(foreignPort);
    assert.ok(err instanceof PortHijacked, String(err));
    assert.equal(err.message, `port ${foreignPort} is held by another account`);
  });
});

describe('hubapps-proxy without ports in the start request', () => {
  it('sends ports/PORT/ paths to the app as before', async () => {
    const catalog = await Catalog.create();
    const service = await startFakeService();
    const { echoApp } = await import('../apps.js');
    echoApp(catalog, 'echo');
    const proxy = await startProxy({ catalog, app: 'echo', service });
    try {
      await proxy.ready();
      const a = await proxy.get('/apps/alice/echo/ports/8787/x', TOKEN);
      assert.equal(a.status, 200);
      assert.equal((JSON.parse(a.body) as { url: string }).url, '/ports/8787/x');
      assert.equal(service.portAccess.length, 0);
    } finally {
      await proxy.kill();
      await service.close();
      await catalog.remove();
    }
  });
});
