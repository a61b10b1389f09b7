import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Decision } from '../../../../src/proxy/access/gate.js';
import type { HubClient, HubUserAnswer } from '../../../../src/proxy/access/hub-client.js';
import { HubAccess } from '../../../../src/proxy/access/hub-gate.js';
import { HubTokenChecker } from '../../../../src/proxy/access/hub-token.js';

const SCOPES = ['access:servers!server=alice/lab', 'access:servers!user=alice'];
const HUB = {
  apiUrl: 'http://127.0.0.1:8081/hub/api/',
  authorizePath: '/hub/api/oauth2/authorize',
  apiToken: '0123456789abcdef0123456789abcdef',
  clientId: 'jupyterhub-user-alice-lab',
  callbackPath: '/user/alice/lab/oauth_callback',
  accessScopes: SCOPES,
  user: 'alice',
  server: 'lab',
};

/** A hub whose answer to GET /hub/api/user the test sets; it counts the calls. */
class FakeHubClient {
  answer: HubUserAnswer = { kind: 'user', user: { name: 'alice', admin: false, scopes: SCOPES } };
  calls: string[] = [];
  async user(token: string): Promise<HubUserAnswer> {
    this.calls.push(token);
    return this.answer;
  }
}

const request = (cookie: string | null, headers: Record<string, string> = {}) =>
  ({
    url: '/user/alice/lab/tree',
    method: 'GET',
    headers: { accept: 'text/html', ...(cookie === null ? {} : { cookie }), ...headers },
  }) as unknown as IncomingMessage;

describe('the access of a hub server (fake hub)', () => {
  let hub: FakeHubClient;
  const gate = (revalidateMs: number) => {
    const client = hub as unknown as HubClient;
    return new HubAccess(client, new HubTokenChecker(client, SCOPES, revalidateMs), {
      serverId: 7,
      prefix: '/user/alice/lab/',
      secureCookie: false,
      hub: HUB,
      revalidateMs,
      owner: 'alice',
    });
  };
  const signIn = (a: HubAccess) => a.sessionCookie('alice', 'hub-token-1').split(';')[0]!;
  const decide = async (a: HubAccess, cookie: string | null, headers = {}): Promise<Decision> =>
    a.authorize(request(cookie, headers), false);

  beforeEach(() => (hub = new FakeHubClient()));

  it('lets a fresh session in without asking the hub, and asks once it is older than the interval', async () => {
    const a = gate(60);
    const cookie = signIn(a);
    assert.deepEqual(await decide(a, cookie), { ok: true, user: 'alice' });
    assert.equal(hub.calls.length, 0);
    await sleep(80);
    assert.deepEqual(await decide(a, cookie), { ok: true, user: 'alice' });
    assert.deepEqual(hub.calls, ['hub-token-1']);
  });

  for (const [what, answer] of [
    ['the hub no longer knows the token', { kind: 'denied' }],
    [
      'the token lost the scope',
      { kind: 'user', user: { name: 'alice', admin: false, scopes: [] } },
    ],
    [
      'the token names another user',
      { kind: 'user', user: { name: 'bob', admin: false, scopes: SCOPES } },
    ],
  ] as [string, HubUserAnswer][]) {
    it(`ends the session when ${what}: the browser is sent back to the hub with its cookie cleared`, async () => {
      const a = gate(30);
      const cookie = signIn(a);
      await sleep(40);
      hub.answer = answer;
      const d = await decide(a, cookie);
      assert.ok(!d.ok && d.status === 302, JSON.stringify(d));
      assert.match(
        d.location,
        /^\/hub\/api\/oauth2\/authorize\?client_id=jupyterhub-user-alice-lab&/,
      );
      assert.ok(
        Array.isArray(d.setCookie) &&
          d.setCookie.some((c) => /^hubapps-proxy-7=;.*Max-Age=0$/.test(c)),
      );
      hub.answer = { kind: 'user', user: { name: 'alice', admin: false, scopes: SCOPES } };
      const again = await decide(a, cookie);
      assert.equal(again.ok, false, 'an ended session never comes back');
    });
  }

  it('keeps the last answer for one more interval while the hub is unreachable, then refuses with 503', async () => {
    const a = gate(50);
    const cookie = signIn(a);
    hub.answer = { kind: 'unavailable' };
    await sleep(60);
    assert.deepEqual(await decide(a, cookie), { ok: true, user: 'alice' });
    await sleep(50);
    const d = await decide(a, cookie);
    assert.ok(!d.ok && d.status === 503, JSON.stringify(d));
    hub.answer = { kind: 'user', user: { name: 'alice', admin: false, scopes: SCOPES } };
    assert.deepEqual(
      await decide(a, cookie),
      { ok: true, user: 'alice' },
      'back once the hub answers',
    );
  });

  it('closes a WebSocket of a session the hub ends, at the next sweep', async () => {
    const a = gate(30);
    const cookie = signIn(a);
    const req = request(cookie);
    assert.deepEqual(await a.authorize(req, true), { ok: true, user: 'alice' });
    const socket = new PassThrough();
    a.track(req, socket);
    hub.answer = { kind: 'denied' };
    await sleep(100);
    assert.equal(socket.destroyed, true);
  });

  it('checks a token at the hub once per cache period, and never shows a hubapps token to the hub', async () => {
    const a = gate(60_000);
    const withToken = { accept: 'application/json', authorization: 'token hub-script-token' };
    assert.deepEqual(await decide(a, null, withToken), { ok: true, user: 'alice' });
    assert.deepEqual(await decide(a, null, withToken), { ok: true, user: 'alice' });
    assert.equal(hub.calls.length, 1);
    const ours = await decide(a, null, { authorization: 'Bearer ha_0123456789abcdefghij' });
    assert.ok(!ours.ok && ours.status === 403);
    assert.equal(hub.calls.length, 1);
  });

  it("strips its cookies, and a nesting default server's, from what the app gets, and sets the user and owner headers itself", async () => {
    const a = gate(60_000);
    const cookie = signIn(a);
    const req = request(`${cookie}; other=1; hubapps-hub-state-7=x`, {
      'x-hubapps-user': 'mallory',
    });
    await a.authorize(req, false);
    assert.equal(req.headers.cookie, 'other=1');
    assert.equal(req.headers['x-hubapps-user'], 'alice');
    assert.equal(req.headers['x-hubapps-owner'], 'alice');
  });
});
