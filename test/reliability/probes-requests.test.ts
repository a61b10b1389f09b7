import assert from 'node:assert/strict';
import { requireRootOrSkip } from '../helpers/index.js';
import { TEST_USERS } from '../system/harness.js';
import { proxySocketOf, SystemStack } from '../system/system-stack.js';
import {
  appSaw,
  authorize,
  codeOf,
  countRows,
  marker,
  redeemAt,
  setUpProbeWorld,
  viaChpRaw,
  wsHandshake,
  type ProbeWorld,
} from './probe-kit.js';
import { raw, serviceOrigin } from './support.js';

const { alice, bob } = TEST_USERS;
const EVIL = 'evil.example';

/** A Location that a browser resolves to somewhere on `origin` and below `within`. */
function staysOn(location: string | undefined, origin: string, within = '/'): boolean {
  if (!location) return false;
  const url = new URL(location, origin);
  return (
    url.origin === origin &&
    url.pathname.startsWith(within) &&
    !location.includes(EVIL) &&
    !/(^|\/)\.\.(\/|$)/.test(url.pathname)
  );
}

/**
 * Scenario 8, crafted requests: open redirects, foreign-Origin WebSockets, Host and
 * X-Forwarded-* smuggling and path traversal through the /apps/ prefix. None leaves the
 * public origin, crosses from alice's server to bob's, or makes the service trust
 * another origin; bob's server log proves no probe reached his app.
 */
describe('reliability: crafted requests cannot redirect away, cross servers or smuggle origins (real sudo)', function () {
  this.timeout(60_000);
  const stack = new SystemStack();
  let w: ProbeWorld;
  let publicOrigin: string;
  let refused = 0;
  before(async function () {
    requireRootOrSkip(this);
    w = await setUpProbeWorld(stack);
    publicOrigin = new URL(stack.chp!.proxyUrl).origin;
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed') stack.reportFailure(this.currentTest.fullTitle());
  });
  after(async () => {
    process.stderr.write(`      figures: ${refused} crafted-request probes refused\n`);
    await stack.tearDown();
  });

  const NEXTS = [
    'https://evil.example/',
    '//evil.example/',
    '/\\evil.example',
    '\\\\evil.example',
    'javascript:alert(1)',
    `/apps/${bob}/b/`,
    `/apps/${alice}/a/../../${bob}/b/`,
    `/apps/${alice}/a/%2e%2e/%2e%2e/${bob}/b/`,
    '/%2F%2Fevil.example',
    'http:evil.example',
    '/x\r\nLocation: //evil.example',
  ];

  describe('open redirects', () => {
    for (const next of NEXTS) {
      it(`keeps a grant for next=${JSON.stringify(next)} on alice's server`, async () => {
        const granted = await redeemAt(
          stack,
          alice,
          'a',
          codeOf(await authorize(stack, w.aliceSession, alice, 'a', next)),
        );
        assert.equal(granted.status, 302);
        assert.ok(
          staysOn(granted.headers.location, publicOrigin, `/apps/${alice}/a/`),
          `went to ${granted.headers.location}`,
        );
        refused++;
      });
      it(`keeps a login link with next=${JSON.stringify(next)} on this site`, async () => {
        const link = await stack.api('POST', `/users/${alice}/login-links`, { next });
        const url = new URL(link.body.url as string);
        const form = new URLSearchParams({ code: url.searchParams.get('code')! }).toString();
        const res = await raw(stack.port, url.pathname, {
          method: 'POST',
          headers: { host: EVIL, 'content-type': 'application/x-www-form-urlencoded' },
          body: form,
        });
        assert.equal(res.status, 302);
        // The admin who mints the link picks its target; it may be any page of this site, never another.
        assert.ok(staysOn(res.headers.location, publicOrigin), `went to ${res.headers.location}`);
        refused++;
      });
    }
    it("sends a browser without credentials to the public origin's authorize page, whatever Host and X-Forwarded-Host say", async () => {
      const res = await viaChpRaw(stack, `/apps/${alice}/a/x`, {
        accept: 'text/html',
        host: EVIL,
        'x-forwarded-host': EVIL,
        'x-forwarded-proto': 'https',
      });
      assert.equal(res.status, 302);
      assert.ok(
        res.headers.location!.startsWith(`${publicOrigin}/services/hubapps/authorize?`),
        res.headers.location,
      );
      refused++;
    });
  });

  describe('WebSockets', () => {
    const auth = () => ({ authorization: `token ${w.aliceToken}` });
    it('opens a WebSocket from the public origin, and the app sees its own origin (the allowed case)', async () => {
      const ok = await wsHandshake(stack, `/apps/${alice}/a/ws`, auth(), publicOrigin);
      assert.equal(ok.opened, true);
      assert.equal(ok.headers['x-app-user'], alice);
      assert.notEqual(decodeURIComponent(String(ok.headers['x-seen-origin'])), publicOrigin);
    });
    const foreign: Array<[string, (pub: URL) => string]> = [
      ['another site', () => `http://${EVIL}`],
      ['"null" (sandboxed frames, file: pages)', () => 'null'],
      ['the public host with another scheme', (pub) => `https://${pub.host}`],
      ['the public host on another port', (pub) => `${pub.protocol}//${pub.hostname}:1`],
      ['a look-alike host', (pub) => `${pub.protocol}//${pub.hostname}.${EVIL}:${pub.port}`],
    ];
    for (const [what, origin] of foreign) {
      it(`refuses a WebSocket from ${what} with 403, before it reaches the app`, async () => {
        const m = marker();
        const res = await wsHandshake(
          stack,
          `/apps/${alice}/a/${m}`,
          auth(),
          origin(new URL(publicOrigin)),
        );
        assert.equal(res.opened, false);
        assert.equal(res.status, 403);
        assert.ok(!appSaw(stack, alice, 'a', m));
        refused++;
      });
    }
  });

  describe('Host and X-Forwarded-* smuggling', () => {
    it("cannot steer a request for alice's server elsewhere, nor make the app believe another prefix, proto or host", async () => {
      const m = marker();
      const res = await viaChpRaw(stack, `/apps/${alice}/a/${m}`, {
        authorization: `token ${stack.adminToken}`,
        host: `127.0.0.1:${w.b.port}`,
        'x-forwarded-host': EVIL,
        'x-forwarded-prefix': `/apps/${bob}/b`,
        'x-forwarded-proto': 'https',
      });
      assert.equal(res.status, 200);
      const seen = JSON.parse(res.body) as {
        user: string;
        url: string;
        headers: Record<string, string>;
      };
      assert.equal(seen.user, alice);
      assert.equal(seen.url, `/${m}`);
      assert.equal(seen.headers['x-forwarded-prefix'], `/apps/${alice}/a`);
      assert.equal(seen.headers['x-forwarded-proto'], 'http');
      assert.equal(seen.headers['x-forwarded-host'], new URL(publicOrigin).host);
      assert.ok(!appSaw(stack, bob, 'b', m));
      refused++;
    });
    it("refuses an absolute-form request for bob's server sent to alice's proxy socket", async () => {
      const m = marker();
      const res = await raw(proxySocketOf(w.a), `http://127.0.0.1:${w.b.port}/apps/${bob}/b/${m}`, {
        headers: { authorization: `token ${stack.adminToken}` },
      });
      assert.equal(res.status, 404);
      assert.ok(!appSaw(stack, bob, 'b', m) && !appSaw(stack, alice, 'a', m));
      refused++;
    });
    it("refuses a path of bob's server sent straight to alice's proxy socket", async () => {
      const m = marker();
      const res = await raw(proxySocketOf(w.a), `/apps/${bob}/b/${m}`, {
        headers: { authorization: `token ${stack.adminToken}`, host: `127.0.0.1:${w.b.port}` },
      });
      assert.equal(res.status, 404);
      assert.ok(!appSaw(stack, bob, 'b', m) && !appSaw(stack, alice, 'a', m));
      refused++;
    });
    it('does not let Host, Origin or X-Forwarded-* make the service accept a cross-site state change', async () => {
      const tokens = countRows(stack, 'tokens');
      const crafted: Array<Record<string, string>> = [
        { origin: `http://${EVIL}`, host: EVIL },
        { origin: `http://${EVIL}`, 'x-forwarded-host': EVIL, 'x-forwarded-proto': 'http' },
        {
          origin: `https://${EVIL}`,
          host: EVIL,
          'x-forwarded-host': EVIL,
          'x-forwarded-proto': 'https',
        },
        { referer: `http://${EVIL}/services/hubapps/`, host: EVIL },
        { origin: 'null' },
      ];
      for (const headers of crafted) {
        const res = await raw(stack.port, `/services/hubapps/api/users/${alice}/tokens`, {
          method: 'POST',
          headers: { cookie: w.aliceSession, 'content-type': 'application/json', ...headers },
          body: '{}',
        });
        assert.equal(res.status, 403, `${JSON.stringify(headers)}: ${res.body}`);
        refused++;
      }
      assert.equal(countRows(stack, 'tokens'), tokens);
      const allowed = await raw(stack.port, `/services/hubapps/api/users/${alice}/tokens`, {
        method: 'POST',
        headers: {
          cookie: w.aliceSession,
          'content-type': 'application/json',
          origin: publicOrigin,
          referer: `${publicOrigin}/services/hubapps/`,
        },
        body: '{}',
      });
      assert.equal(
        allowed.status,
        201,
        'the same request from the launcher page on the public origin is allowed',
      );
    });
    it("keeps the service's redirects relative or on the public origin when Host names another site", async () => {
      const res = await authorize(stack, w.aliceSession, alice, 'a', undefined, {
        host: EVIL,
        'x-forwarded-host': EVIL,
      });
      assert.equal(res.status, 302);
      assert.ok(
        staysOn(res.headers.location, publicOrigin, `/apps/${alice}/a/`),
        res.headers.location,
      );
      const login = await raw(
        stack.port,
        `/services/hubapps/authorize?user=${alice}&server=a&binding=${'b'.repeat(43)}`,
        { headers: { host: EVIL, accept: 'text/html' } },
      );
      assert.ok(
        staysOn(login.headers.location, publicOrigin, '/services/hubapps/'),
        login.headers.location,
      );
      assert.notEqual(serviceOrigin(stack), publicOrigin);
      refused += 2;
    });
  });

  /**
   * CHP routes by the WHATWG-normalised path (dot segments resolved, %2e and backslashes
   * included) and forwards that path, so such a traversal is a request for bob's server,
   * judged by bob's proxy; traversals CHP leaves alone reach alice's proxy, which refuses
   * '..' segments. Either way alice's credentials never get a request into bob's app.
   */
  describe('path traversal through the /apps/ prefix', () => {
    let aliceCookie: string;
    before(async () => {
      const granted = await redeemAt(
        stack,
        alice,
        'a',
        codeOf(await authorize(stack, w.aliceSession, alice, 'a')),
      );
      aliceCookie = String(granted.headers['set-cookie']).split(';')[0]!;
    });
    const sneaky = (m: string) => [
      `/apps/${alice}/a/../../${bob}/b/${m}`,
      `/apps/${alice}/a/..%2f..%2f${bob}/b/${m}`,
      `/apps/${alice}/a/%2e%2e/%2e%2e/${bob}/b/${m}`,
      `/apps/${alice}/a/%2E%2E/%2E%2E/${bob}/b/${m}`,
      `/apps/${alice}/a/.%2e/.%2e/${bob}/b/${m}`,
      `/apps/${alice}/a/..\\..\\${bob}/b/${m}`,
      `/apps/${alice}/a/..%5c..%5c${bob}/b/${m}`,
      `/apps/${alice}/a/..%252f..%252f${bob}/b/${m}`,
      `/apps/${alice}/a/./../../${bob}/b/${m}`,
      `/apps/${alice}/a//../../${bob}/b/${m}`,
      `/apps/${alice}/a/x/../../../${bob}/b/${m}`,
      `/apps/${alice}/a/%2e%2e%2f%2e%2e%2f${bob}/b/${m}`,
    ];
    for (const [i, template] of sneaky('MARK').entries()) {
      it(`never takes alice's token or cookie into bob's app with ${template}`, async () => {
        const credentials: Array<Record<string, string>> = [
          { authorization: `token ${w.aliceToken}` },
          { cookie: aliceCookie, accept: 'text/html' },
        ];
        for (const headers of credentials) {
          const m = marker();
          const path = sneaky(m)[i]!;
          const res = await viaChpRaw(stack, path, headers);
          assert.ok(
            !appSaw(stack, bob, 'b', m),
            `${path} reached bob's app (answer ${res.status})`,
          );
          if (res.status === 200)
            assert.equal(JSON.parse(res.body).user, alice, "answered by an app other than alice's");
          else
            assert.ok(
              [302, 400, 401, 403, 404, 503].includes(res.status),
              `answered ${res.status}: ${res.body.slice(0, 200)}`,
            );
          if (res.status === 302)
            assert.ok(
              staysOn(res.headers.location, publicOrigin),
              `redirected to ${res.headers.location}`,
            );
          refused++;
        }
      });
    }
  });
});
