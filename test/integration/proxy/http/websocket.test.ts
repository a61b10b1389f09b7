import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { echoApp } from '../apps.js';
import {
  Catalog,
  browserLogin,
  startFakeService,
  startProxy,
  type FakeService,
  type RunningProxy,
} from '../../../unit/proxy/harness.js';

interface Hello {
  url: string;
  origin: string | null;
  host: string;
  cookie: string | null;
}

/** Open a WebSocket; resolves with the socket and the app's first message, or rejects with the HTTP status of a refusal. */
function open(
  url: string,
  headers: Record<string, string>,
): Promise<{ ws: WebSocket; hello: Hello }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('message', (data) => resolve({ ws, hello: JSON.parse(String(data)) as Hello }));
    ws.once('unexpected-response', (_req, res) =>
      reject(
        Object.assign(new Error(`refused with ${res.statusCode}`), { status: res.statusCode }),
      ),
    );
    ws.once('error', reject);
  });
}

function nextMessage(ws: WebSocket): Promise<string> {
  return new Promise((resolve) => ws.once('message', (data) => resolve(String(data))));
}

describe('hubapps-proxy WebSockets', () => {
  let catalog: Catalog;
  let service: FakeService;
  let proxy: RunningProxy;
  let url: string;

  before(async () => {
    catalog = await Catalog.create();
    service = await startFakeService();
    echoApp(catalog, 'ws', { websocket: true });
    proxy = await startProxy({
      catalog,
      app: 'ws',
      service,
      allowedOrigins: ['https://other.example.org'],
    });
    await proxy.ready();
    url = `ws://127.0.0.1:${proxy.spec.port}/apps/alice/ws/socket?x=1`;
  });
  after(async () => {
    await proxy.kill();
    await service.close();
    await catalog.remove();
  });

  it('echoes through the proxy with the public Origin, rewritten to the app own origin', async () => {
    const { ws, hello } = await open(url, {
      origin: 'https://hub.example.org',
      authorization: 'token alice-token',
    });
    try {
      const port = (await proxy.report()).appTarget as { port: number };
      assert.equal(hello.url, '/socket?x=1');
      assert.equal(hello.origin, `http://127.0.0.1:${port.port}`);
      assert.equal(hello.host, `127.0.0.1:${port.port}`);
      ws.send('ping');
      assert.equal(await nextMessage(ws), 'echo:ping');
    } finally {
      ws.close();
    }
  });

  it('accepts an extra allowed origin', async () => {
    const { ws } = await open(url, {
      origin: 'https://other.example.org',
      authorization: 'token alice-token',
    });
    ws.close();
  });

  it('refuses a foreign Origin with 403 before the app sees the handshake', async () => {
    await assert.rejects(
      open(url, { origin: 'https://evil.example.com', authorization: 'token alice-token' }),
      { status: 403 },
    );
    await sleep(100);
    assert.doesNotMatch(proxy.output(), /ws connection from origin .*evil/);
    assert.doesNotMatch(proxy.output(), /ws connection from origin undefined/);
  });

  it('refuses an upgrade without credential with 401 and with a foreign token with 403', async () => {
    await assert.rejects(open(url, { origin: 'https://hub.example.org' }), { status: 401 });
    await assert.rejects(
      open(url, { origin: 'https://hub.example.org', authorization: 'token bob-token' }),
      { status: 403 },
    );
  });

  it('accepts the session cookie of a browser login and strips it before the app', async () => {
    const session = await browserLogin(proxy, service);
    const { ws, hello } = await open(url, {
      origin: 'https://hub.example.org',
      cookie: `${session}; keep=1`,
    });
    ws.close();
    assert.equal(hello.cookie, 'keep=1');
  });

  it('counts WebSocket frames as activity', async () => {
    const { ws } = await open(url, {
      origin: 'https://hub.example.org',
      authorization: 'token alice-token',
    });
    try {
      const before = Date.parse((await proxy.report()).lastActivity!);
      await sleep(30);
      ws.send('frame');
      await nextMessage(ws);
      const after = Date.parse((await proxy.report()).lastActivity!);
      assert.ok(after > before, `lastActivity ${after} should be later than ${before}`);
    } finally {
      ws.close();
    }
  });
});
