import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { startEchoProxy, tearDown, type ProxyBed } from '../bed.js';
import { browserLogin, type RunningProxy } from '../../../unit/proxy/harness.js';

/** Spellings of the proxy's own headers that WSGI, CGI and PHP read as the real ones. */
const FORGED = {
  X_Hubapps_User: 'mallory',
  'x-HUBAPPS_user': 'mallory',
  'X-Hubapps-User': 'mallory',
  'X-Hubapps-Owner': 'mallory',
  X_HUBAPPS_OWNER: 'mallory',
  X_HUBAPPS_PROOF: 'forged',
  X_Forwarded_For: '203.0.113.9',
  'x_forwarded-host': 'evil.example',
  X_Real_IP: '203.0.113.9',
  X_FORWARDED_PREFIX: '/elsewhere',
};

/** The values the app received under every name a WSGI app reads as `name`. */
function spelled(headers: Record<string, string>, name: string): string[] {
  return Object.entries(headers)
    .filter(([n]) => n.toLowerCase().replaceAll('_', '-') === name)
    .map(([, v]) => v);
}

describe('hubapps-proxy removes every client spelling of its own headers (X_Hubapps_User, X_Hubapps_Owner, X_Forwarded_For, any case)', () => {
  let bed: ProxyBed & { proxy: RunningProxy };
  let proxy: RunningProxy;
  let cookie: string;

  before(async () => {
    bed = await startEchoProxy({ websocket: true });
    proxy = bed.proxy;
    cookie = await browserLogin(proxy, bed.service);
  });
  after(() => tearDown(bed));

  function assertOnlyOwn(headers: Record<string, string>, upgrade: boolean): void {
    assert.deepEqual(spelled(headers, 'x-hubapps-user'), ['alice'], JSON.stringify(headers));
    assert.deepEqual(spelled(headers, 'x-hubapps-owner'), ['alice'], JSON.stringify(headers));
    assert.deepEqual(spelled(headers, 'x-hubapps-proof'), []);
    assert.deepEqual(spelled(headers, 'x-forwarded-for'), ['127.0.0.1']);
    assert.deepEqual(spelled(headers, 'x-forwarded-host'), upgrade ? [] : ['hub.example.org']);
    assert.deepEqual(spelled(headers, 'x-real-ip'), []);
    assert.deepEqual(spelled(headers, 'x-forwarded-prefix'), ['/apps/alice/echo']);
  }

  it('on HTTP requests', async () => {
    const answer = await proxy.get('/apps/alice/echo/page', { cookie, ...FORGED });
    assert.equal(answer.status, 200, answer.body);
    assertOnlyOwn((JSON.parse(answer.body) as { headers: Record<string, string> }).headers, false);
  });

  it('on WebSocket handshakes', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${proxy.spec.port}/apps/alice/echo/socket`, {
      headers: { origin: 'https://hub.example.org', cookie, ...FORGED },
    });
    try {
      const hello = await new Promise<{ headers: Record<string, string> }>((resolve, reject) => {
        ws.once('message', (data) =>
          resolve(JSON.parse(String(data)) as { headers: Record<string, string> }),
        );
        ws.once('unexpected-response', (_req, res) =>
          reject(new Error(`refused with ${res.statusCode}`)),
        );
        ws.once('error', reject);
      });
      assertOnlyOwn(hello.headers, true);
    } finally {
      ws.close();
    }
  });
});
