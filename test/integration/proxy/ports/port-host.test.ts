/**
 * A user's port on its own host (per-server origins): the proxy recognises the port's
 * label in the Host header, checks WebSocket Origins against the port's own origin, sends
 * a browser through authorize for that port, and redeems its code for that port only.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { portLabel } from '../../../../src/port-label.js';
import { freePort } from '../../../helpers/index.js';
import {
  Catalog,
  fetchRaw,
  startFakeService,
  startProxy,
  TEST_GRANT_NONCE,
  type FakeService,
  type RunningProxy,
} from '../../../unit/proxy/harness.js';
import WebSocket, { WebSocketServer } from 'ws';
import { echoApp } from '../apps.js';

describe("hubapps-proxy: a user's port on its own host", () => {
  let catalog: Catalog;
  let service: FakeService;
  let proxy: RunningProxy;
  let program: Server;
  let port: number;
  let portHost: string;
  let serverHost: string;

  before(async () => {
    catalog = await Catalog.create();
    service = await startFakeService();
    echoApp(catalog, 'term');
    const proxyPort = await freePort();
    serverHost = `term--alice.apps.localhost:${proxyPort}`;
    proxy = await startProxy({
      catalog,
      app: 'term',
      service,
      port: proxyPort,
      ownOrigin: true,
      publicOrigin: `http://${serverHost}`,
      ports: { ranges: [[1024, 65535]], hostPorts: true, cors: [] },
    });
    await proxy.ready();
    // This test's own listener is of the owner's uid but no process of the server: a host port.
    program = createServer((req, res) => res.end(JSON.stringify({ url: req.url })));
    new WebSocketServer({ server: program }).on('connection', (ws) => ws.send('hello'));
    await new Promise<void>((r) => program.listen({ host: '127.0.0.1', port: 0 }, r));
    port = (program.address() as { port: number }).port;
    portHost = `${portLabel('alice', 'term', port, 'host')}.apps.localhost:${proxyPort}`;
  });

  after(async () => {
    program?.close();
    await proxy?.kill();
    await service?.close().catch(() => undefined);
    await catalog?.remove();
  });

  const get = (host: string, path: string, headers: Record<string, string> = {}) =>
    fetchRaw(proxy.spec.port, path, { headers: { host, ...headers } });

  it('serves the port at its host with the path as sent', async () => {
    const a = await get(portHost, '/dash/x?y=1', { authorization: 'token alice-token' });
    assert.equal(a.status, 200, a.body);
    assert.deepEqual(JSON.parse(a.body), { url: '/dash/x?y=1' });
  });

  it("does not take another user's label for its own", async () => {
    const other = `${portLabel('bob', 'term', port, 'host')}.apps.localhost:${proxy.spec.port}`;
    const a = await get(other, '/dash', { authorization: 'token alice-token' });
    assert.equal(a.status, 200);
    assert.match(a.body, /"url":"\/dash"/);
    assert.match(
      a.body,
      /"method":"GET"/,
      'the echo app (the server itself) answered, not the port',
    );
  });

  it("accepts WebSockets only from the port's own origin, not the server's", async () => {
    const open = (origin: string) =>
      new Promise<number>((resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${proxy.spec.port}/live`, {
          headers: { host: portHost, origin, authorization: 'token alice-token' },
        });
        ws.once('message', () => {
          ws.close();
          resolve(101);
        });
        ws.once('unexpected-response', (_q, res) => resolve(res.statusCode ?? 0));
        ws.once('error', reject);
      });
    assert.equal(await open(`http://${portHost}`), 101);
    assert.equal(await open(`http://${serverHost}`), 403);
  });

  it('sends a browser through authorize for this port, and its code opens this port only', async () => {
    const nav = { accept: 'text/html', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' };
    const first = await get(portHost, '/dash', nav);
    assert.equal(first.status, 302);
    assert.match(first.headers.location!, new RegExp(`&port=${port}&port_kind=host&binding=`));
    const code = service.grant({ serverId: 7, user: 'alice', next: '/dash' });
    const granted = await get(portHost, `/_hubapps/grant?code=${code}`, {
      ...nav,
      cookie: `__Host-hubapps-grant-7=${TEST_GRANT_NONCE}`,
    });
    assert.equal(granted.status, 302, granted.body);
    assert.deepEqual(service.redeems.at(-1)!.body.port, { port, kind: 'host' });
    const cookie = granted.headers['set-cookie']!.find((c) => c.startsWith('__Host-hubapps-7='))!;
    assert.match(cookie, /Path=\/; Secure; HttpOnly; SameSite=Lax/);
    const session = cookie.split(';')[0]!;
    const withCookie = await get(portHost, '/dash', { ...nav, cookie: session });
    assert.equal(withCookie.status, 200);
    const onServer = await get(serverHost, '/', { ...nav, cookie: session });
    assert.equal(onServer.status, 302, "the port's session does not open the server");
  });
});
