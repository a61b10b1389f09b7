import assert from 'node:assert/strict';
import { parseRequest } from '../../../../src/proxy/request.js';

const HUB = {
  apiUrl: 'http://127.0.0.1:8081/hub/api/',
  authorizePath: '/hub/api/oauth2/authorize',
  apiToken: '0123456789abcdef0123456789abcdef',
  clientId: 'jupyterhub-user-alice-lab',
  callbackPath: '/user/alice/lab/oauth_callback',
  accessScopes: ['access:servers!server=alice/lab', 'access:servers!user=alice'],
  user: 'alice',
  server: 'lab',
};

const start = (extra: Record<string, unknown>) =>
  JSON.stringify({
    op: 'start',
    version: 1,
    server: { id: 7, user: 'alice', name: 'lab' },
    app: 'lab',
    port: 50123,
    appPort: 20001,
    secret: 's'.repeat(32),
    publicOrigin: 'https://hub.example.org',
    framing: { frames: 'server', popups: 'isolate' },
    prefix: '/user/alice/lab/',
    serviceUrl: 'http://127.0.0.1:10101/services/hubapps/',
    stopGraceMs: 1000,
    readyTimeoutMs: 5000,
    hub: HUB,
    ...extra,
  });

describe("a start request's hub binding", () => {
  it('is taken as given when it is whole and the server listens on loopback TCP with a guarded app port', () => {
    const req = parseRequest(start({}));
    assert.ok(req.op === 'start');
    assert.deepEqual(req.hub, HUB);
    assert.equal(req.appPort, 20001);
    assert.equal(req.socket, undefined);
  });

  for (const [what, extra, message] of [
    ['a socket', { socket: '/run/hubapps/p/7.sock' }, /'socket' cannot be combined with 'hub'/],
    [
      "users' ports",
      { ports: { ranges: [[8000, 9000]], hostPorts: false } },
      /'ports' cannot be combined/,
    ],
    [
      'no appPort (the kernel would pick an unguarded port)',
      { appPort: undefined },
      /'appPort' is required with 'hub'/,
    ],
    [
      'a callback outside the prefix',
      { hub: { ...HUB, callbackPath: '/user/bob/lab/oauth_callback' } },
      /'hub.callbackPath' must be below the prefix/,
    ],
    ['no access scope', { hub: { ...HUB, accessScopes: [] } }, /'hub.accessScopes' must hold/],
    [
      'an api URL with a query',
      { hub: { ...HUB, apiUrl: 'http://127.0.0.1:8081/hub/api/?x=1' } },
      /'hub.apiUrl' must be/,
    ],
    [
      'a short api token',
      { hub: { ...HUB, apiToken: 'short' } },
      /'hub.apiToken' has an invalid value/,
    ],
  ] as const) {
    it(`is refused with ${what}, naming the field`, () => {
      assert.throws(() => parseRequest(start(extra)), message);
    });
  }

  it("takes the hub's api URL as JupyterHub writes it (no trailing slash) and resolves its endpoints below it", () => {
    const req = parseRequest(start({ hub: { ...HUB, apiUrl: 'http://127.0.0.1:8081/hub/api' } }));
    assert.ok(req.op === 'start');
    assert.equal(req.hub?.apiUrl, 'http://127.0.0.1:8081/hub/api/');
  });

  it('never names the api token in a refusal', () => {
    const token = 'secret-token-\u0001-0123456789';
    assert.throws(
      () => parseRequest(start({ hub: { ...HUB, apiToken: token } })),
      (err: Error) => !err.message.includes('secret-token'),
    );
  });
});
