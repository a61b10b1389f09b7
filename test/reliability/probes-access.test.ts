import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { hashSecret } from '../../src/secret-hash.js';
import { requireRootOrSkip } from '../helpers/index.js';
import { TEST_USERS } from '../system/harness.js';
import { SystemStack } from '../system/system-stack.js';
import {
  appSaw,
  appSees,
  authorize,
  codeOf,
  countRows,
  marker,
  redeemAt,
  setUpProbeWorld,
  viaChpRaw,
  writeDb,
  type ProbeWorld,
} from './probe-kit.js';
import { raw } from './support.js';

const { alice, bob } = TEST_USERS;

/**
 * Scenario 8, credentials: tokens, browser sessions and per-server grants only ever open
 * their owner's servers. Every probe is refused, and the server logs prove the refused
 * requests never reached an app. Each group starts with the allowed case, so a probe
 * cannot pass merely because nothing works.
 */
describe('reliability: cross-user probes with tokens, sessions and grants are refused (real sudo)', function () {
  this.timeout(60_000);
  const stack = new SystemStack();
  let w: ProbeWorld;
  let refused = 0;
  before(async function () {
    requireRootOrSkip(this);
    w = await setUpProbeWorld(stack);
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed') stack.reportFailure(this.currentTest.fullTitle());
  });
  after(async () => {
    process.stderr.write(`      figures: ${refused} credential probes refused\n`);
    await stack.tearDown();
  });

  /** GET user/name/<marker> through CHP; must be refused with one of `statuses` and never reach the app. */
  const refusedAt = async (
    user: string,
    name: string,
    headers: Record<string, string>,
    statuses: number[],
    query = '',
  ) => {
    const m = marker();
    const res = await viaChpRaw(stack, `/apps/${user}/${name}/${m}${query}`, headers);
    assert.ok(statuses.includes(res.status), `answered ${res.status}: ${res.body.slice(0, 200)}`);
    assert.ok(!appSaw(stack, user, name, m), 'the refused request reached the app');
    refused++;
    return res;
  };

  describe('tokens', () => {
    it("lets alice's token into alice's server (the allowed case)", async () => {
      const m = marker();
      const res = await viaChpRaw(stack, `/apps/${alice}/a/${m}`, {
        authorization: `token ${w.aliceToken}`,
      });
      assert.equal(res.status, 200);
      assert.equal(JSON.parse(res.body).user, alice);
      await appSees(stack, alice, 'a', m);
    });
    it("refuses bob's token on alice's server URL in the header, and takes no token from ?token= at all", async () => {
      await refusedAt(alice, 'a', { authorization: `token ${w.bobToken}` }, [403]);
      await refusedAt(alice, 'a', { authorization: `Bearer ${w.bobToken}` }, [403]);
      await refusedAt(alice, 'a', {}, [401], `?token=${w.bobToken}`);
      await refusedAt(alice, 'a', {}, [401], `?token=${w.aliceToken}`);
    });
    it("refuses alice's token on bob's server; a browser with ?token= goes to authorize without a cookie", async () => {
      await refusedAt(bob, 'b', { authorization: `token ${w.aliceToken}` }, [403]);
      const res = await refusedAt(
        bob,
        'b',
        { accept: 'text/html' },
        [302],
        `?token=${w.aliceToken}`,
      );
      assert.match(res.headers.location ?? '', /\/services\/hubapps\/authorize\?/);
      assert.ok(
        !String(res.headers['set-cookie'] ?? '').includes('hubapps-proxy-'),
        'a URL token made a session cookie',
      );
    });
    it('refuses a made-up token, a deleted token and a request without any credential', async () => {
      await refusedAt(
        alice,
        'a',
        { authorization: `token ha_${randomBytes(24).toString('base64url')}` },
        [403],
      );
      const doomed = (await stack.api('POST', `/users/${alice}/tokens`, {})).body as {
        id: number;
        token: string;
      };
      assert.equal((await stack.api('DELETE', `/users/${alice}/tokens/${doomed.id}`)).status, 204);
      await refusedAt(alice, 'a', { authorization: `token ${doomed.token}` }, [403]);
      await refusedAt(alice, 'a', {}, [401]);
    });
    it("refuses the per-server secret of alice's server as a credential for the app", async () => {
      await refusedAt(
        alice,
        'a',
        { authorization: `Bearer ${stack.row(alice, 'a')!.secret}` },
        [403],
      );
    });
  });

  describe('a token without admin on admin routes', () => {
    const api = (method: string, path: string, body?: unknown) =>
      raw(stack.port, `/services/hubapps${path}`, {
        method,
        headers: {
          authorization: `token ${w.aliceToken}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    for (const [method, path, body] of [
      ['GET', '/api/users', undefined],
      ['GET', '/api/events', undefined],
      ['GET', '/metrics', undefined],
      ['POST', `/api/users/${alice}/login-links`, {}],
      ['POST', `/api/users/${bob}/login-links`, {}],
      ['GET', `/api/users/${bob}`, undefined],
      ['GET', `/api/users/${bob}/servers/b`, undefined],
      ['GET', `/api/users/${bob}/servers/b/logs`, undefined],
      ['GET', `/api/users/${bob}/servers/b/progress`, undefined],
      ['POST', `/api/users/${bob}/servers/x`, { app: 'tiny' }],
      ['DELETE', `/api/users/${bob}/servers/b`, undefined],
      ['POST', `/api/users/${bob}/tokens`, {}],
      ['GET', `/api/users/${bob}/tokens`, undefined],
    ] as const) {
      it(`refuses ${method} ${path} with 403 and changes nothing`, async () => {
        const before = [
          countRows(stack, 'tokens'),
          countRows(stack, 'codes'),
          stack.servers().length,
        ];
        const res = await api(method, path, body);
        assert.equal(res.status, 403, res.body);
        assert.equal(JSON.parse(res.body).status, 403);
        assert.deepEqual(
          [countRows(stack, 'tokens'), countRows(stack, 'codes'), stack.servers().length],
          before,
        );
        assert.equal(stack.row(bob, 'b')!.state, 'running');
        refused++;
      });
    }
  });

  describe('browser sessions and grants', () => {
    it('grants alice her own server: code, proxy cookie, the app without the cookie (the allowed case)', async () => {
      const code = codeOf(
        await authorize(stack, w.aliceSession, alice, 'a', `/apps/${alice}/a/x?y=1`),
      );
      const granted = await redeemAt(stack, alice, 'a', code);
      assert.equal(granted.status, 302, granted.body);
      assert.equal(granted.headers.location, `/apps/${alice}/a/x?y=1`);
      const cookie = String(granted.headers['set-cookie']).split(';')[0]!;
      const res = await viaChpRaw(stack, `/apps/${alice}/a/x`, { cookie: `${cookie}; other=1` });
      assert.equal(res.status, 200);
      assert.equal(
        JSON.parse(res.body).headers.cookie,
        'other=1',
        'the proxy cookie reached the app',
      );
    });
    it("refuses bob's session at the authorize page of alice's server, issuing no code", async () => {
      const codes = countRows(stack, 'codes');
      const res = await authorize(stack, w.bobSession, alice, 'a');
      assert.equal(res.status, 403);
      assert.doesNotMatch(res.headers.location ?? '', /code=/);
      assert.equal(countRows(stack, 'codes'), codes);
      refused++;
    });
    it('refuses a replayed code', async () => {
      const code = codeOf(await authorize(stack, w.aliceSession, alice, 'a'));
      assert.equal((await redeemAt(stack, alice, 'a', code)).status, 302);
      assert.equal((await redeemAt(stack, alice, 'a', code)).status, 403);
      refused++;
    });
    it('refuses forged codes of every shape', async () => {
      for (const forged of [
        randomBytes(32).toString('base64url'),
        'x',
        '',
        'a'.repeat(200),
        '../../api/users',
        `${randomBytes(32).toString('base64url')}%00`,
      ]) {
        const res = await redeemAt(stack, alice, 'a', forged);
        assert.equal(res.status, 403, `${forged}: ${res.status}`);
        assert.ok(!String(res.headers['set-cookie'] ?? '').includes('hubapps-proxy-'));
        refused++;
      }
    });
    it('refuses an expired code', async () => {
      const code = codeOf(await authorize(stack, w.aliceSession, alice, 'a'));
      assert.equal(
        writeDb(
          stack,
          'UPDATE codes SET expires_at = ? WHERE hash = ?',
          new Date(Date.now() - 1000).toISOString(),
          hashSecret(code),
        ),
        1,
      );
      const res = await redeemAt(stack, alice, 'a', code);
      assert.equal(res.status, 403);
      assert.ok(!String(res.headers['set-cookie'] ?? '').includes('hubapps-proxy-'));
      refused++;
    });
    it("refuses a code for alice's other server, which stays usable there (a foreign proxy cannot even use it up)", async () => {
      const code = codeOf(await authorize(stack, w.aliceSession, alice, 'a2'));
      assert.equal((await redeemAt(stack, alice, 'a', code)).status, 403);
      assert.equal((await redeemAt(stack, bob, 'b', code)).status, 403);
      assert.equal((await redeemAt(stack, alice, 'a2', code)).status, 302);
      refused += 2;
    });
    it("refuses bob's proxy cookie replayed on alice's server under her cookie's name", async () => {
      const code = codeOf(await authorize(stack, w.bobSession, bob, 'b'));
      const value = String((await redeemAt(stack, bob, 'b', code)).headers['set-cookie'])
        .split(';')[0]!
        .split('=')[1]!;
      await refusedAt(
        alice,
        'a',
        { cookie: `hubapps-proxy-${w.a.id}=${value}`, accept: 'text/html' },
        [302],
      );
      await refusedAt(alice, 'a', { cookie: `hubapps-proxy-${w.b.id}=${value}` }, [401]);
    });
    it('refuses redeeming at the service without the right server secret', async () => {
      const code = codeOf(await authorize(stack, w.aliceSession, alice, 'a'));
      const redeem = (serverId: number, secret: string) =>
        raw(stack.port, '/services/hubapps/api/internal/redeem-grant', {
          method: 'POST',
          headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
          body: JSON.stringify({ serverId, code }),
        });
      assert.equal((await redeem(w.a.id, 'x'.repeat(43))).status, 401);
      assert.equal((await redeem(w.a.id, stack.row(alice, 'a2')!.secret!)).status, 401);
      assert.equal((await redeem(w.a2.id, stack.row(alice, 'a2')!.secret!)).status, 403);
      assert.equal(
        (await redeemAt(stack, alice, 'a', code)).status,
        302,
        'the refused attempts must not use the code up',
      );
      refused += 3;
    });
  });
});
