import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import {
  TEST_GRANT_NONCE,
  fetchRaw,
  type Catalog,
  type FakeService,
  type RunningProxy,
} from '../../../unit/proxy/harness.js';
import { startEchoProxy, tearDown } from '../bed.js';

const HTML = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };
/** The browser the codes were issued to: it holds the grant cookie whose hash went to authorize. */
const BROWSER = { ...HTML, cookie: `hubapps-grant-7=${TEST_GRANT_NONCE}` };
const sessionCookie = (h: string[] | undefined) =>
  (h ?? []).find((c) => c.startsWith('hubapps-proxy-'));
const AUTHORIZE = 'https://hub.example.org/services/hubapps/authorize?user=alice&server=echo&next=';

describe('hubapps-proxy per-server access grants', () => {
  let catalog: Catalog;
  let service: FakeService;
  let proxy: RunningProxy;
  const base = '/apps/alice/echo/';
  const grantUrl = (code: string) => `${base}_hubapps/grant?code=${encodeURIComponent(code)}`;
  const issue = (next: string, user = 'alice', serverId = 7, admin = false) =>
    service.grant({ serverId, user, admin, next });

  before(async () => ({ catalog, service, proxy } = await startEchoProxy({ websocket: true })));
  after(() => tearDown({ catalog, service, proxy }));

  it("sends a browser navigation without credential to the service's authorize page, with where it wanted to go", async () => {
    const answer = await proxy.get(`${base}tree/a%20b?x=1&y=2`, HTML);
    assert.equal(answer.status, 302);
    const location = answer.headers.location!;
    const binding = /&binding=([\w-]{43})&next=/.exec(location)?.[1];
    assert.ok(binding, location);
    assert.equal(
      location,
      `${AUTHORIZE.replace(/&next=$/, '')}&binding=${binding}&next=${encodeURIComponent(`${base}tree/a%20b?x=1&y=2`)}`,
    );
    const grantCookie = answer.headers['set-cookie']![0]!;
    assert.match(
      grantCookie,
      /^hubapps-grant-7=[\w-]{43}; Path=\/apps\/alice\/echo\/_hubapps\/grant; HttpOnly; SameSite=Lax; Secure; Max-Age=600$/,
    );
    const nonce = grantCookie.split(';')[0]!.split('=')[1]!;
    assert.equal(
      createHash('sha256').update(nonce).digest('base64url'),
      binding,
      'authorize gets the hash of the grant cookie, never the cookie',
    );
    const head = await proxy.get(`${base}x`, HTML, 'HEAD');
    assert.equal(head.status, 302);
  });

  it('sends a browser with a stale or made-up proxy cookie to the authorize page too', async () => {
    const answer = await proxy.get(`${base}x`, {
      ...HTML,
      cookie: 'hubapps-proxy-7=left-over-from-before-a-restart',
    });
    assert.equal(answer.status, 302);
    assert.ok(answer.headers.location!.startsWith(AUTHORIZE.replace(/&next=$/, '&binding=')));
  });

  it('answers API clients, form posts and WebSocket upgrades without credential with 401, not a redirect', async () => {
    assert.equal(
      (await proxy.get(`${base}api/contents`, { accept: 'application/json' })).status,
      401,
    );
    assert.equal((await proxy.get(`${base}form`, HTML, 'POST')).status, 401);
    const upgrade = await fetchRaw(proxy.spec.port, `${base}ws`, {
      headers: {
        ...HTML,
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': randomBytes(16).toString('base64'),
      },
    });
    assert.equal(upgrade.status, 401);
  });

  it('redeems a code with its server id and secret, sets its own cookie and sends the browser on to next', async () => {
    const code = issue(`${base}tree?x=1`);
    const answer = await proxy.get(grantUrl(code), BROWSER);
    assert.equal(answer.status, 302, answer.body);
    assert.equal(answer.headers.location, `${base}tree?x=1`);
    const cookie = sessionCookie(answer.headers['set-cookie'])!;
    assert.match(
      answer.headers['set-cookie']![1]!,
      /^hubapps-grant-7=; .*Max-Age=0$/,
      'the grant cookie is cleared',
    );
    assert.match(
      cookie,
      /^hubapps-proxy-7=[A-Za-z0-9_-]{40,}; Path=\/apps\/alice\/echo\/; HttpOnly; SameSite=Lax; Secure$/,
    );
    const redeemed = service.redeems.at(-1)!;
    assert.deepEqual(redeemed.body, { serverId: 7, code, binding: TEST_GRANT_NONCE });
    assert.equal(redeemed.authorization, `Bearer ${proxy.spec.secret}`);

    const next = await proxy.get(`${base}tree?x=1`, {
      ...HTML,
      cookie: `theme=dark; ${cookie.split(';')[0]}`,
    });
    assert.equal(next.status, 200);
    const echoed = JSON.parse(next.body) as { url: string; headers: Record<string, string> };
    assert.equal(echoed.url, '/tree?x=1');
    assert.equal(echoed.headers.cookie, 'theme=dark', 'the proxy cookie never reaches the app');
    assert.ok(!proxy.output().includes(code), 'the code is in the log');
  });

  it('refuses a code the second time with a 403 page that says what to do, and sets no cookie', async () => {
    const code = issue(`${base}`);
    assert.equal((await proxy.get(grantUrl(code), BROWSER)).status, 302);
    const replay = await proxy.get(grantUrl(code), BROWSER);
    assert.equal(replay.status, 403);
    assert.match(replay.body, /access code invalid, expired or made for another browser/);
    assert.match(replay.body, /href="\/apps\/alice\/echo\/">Try again/);
    assert.equal(sessionCookie(replay.headers['set-cookie']), undefined);
  });

  it('refuses a forged, missing or malformed code', async () => {
    const before = service.redeems.length;
    for (const path of [
      grantUrl(randomBytes(32).toString('base64url')),
      `${base}_hubapps/grant`,
      grantUrl('<script>'),
      grantUrl('short'),
    ]) {
      const answer = await proxy.get(path, BROWSER);
      assert.equal(answer.status, 403, path);
      assert.equal(sessionCookie(answer.headers['set-cookie']), undefined, path);
    }
    assert.equal(
      service.redeems.length,
      before + 1,
      'only the well-formed code is worth asking the service about',
    );
  });

  it('refuses a code in a browser without the grant cookie it was issued for, or with another one, and keeps it for its own browser', async () => {
    const code = issue(base);
    for (const headers of [HTML, { ...HTML, cookie: `hubapps-grant-7=${'h'.repeat(43)}` }]) {
      const answer = await proxy.get(grantUrl(code), headers);
      assert.equal(answer.status, 403);
      assert.match(answer.body, /made for another browser/);
      assert.equal(sessionCookie(answer.headers['set-cookie']), undefined);
    }
    assert.equal((await proxy.get(grantUrl(code), BROWSER)).status, 302);
  });

  it('refuses to take a code inside a frame or from a script of another page', async () => {
    const code = issue(base);
    const framed = await proxy.get(grantUrl(code), {
      ...BROWSER,
      'sec-fetch-site': 'same-origin',
      'sec-fetch-mode': 'navigate',
      'sec-fetch-dest': 'iframe',
      referer: 'https://hub.example.org/apps/bob/www/attack.html',
    });
    assert.equal(framed.status, 403);
    assert.equal(
      (await proxy.get(grantUrl(code), BROWSER)).status,
      302,
      'the refused frame left the code unused',
    );
  });

  it('refuses a code issued for another server', async () => {
    const code = issue(`${base}`, 'alice', 8);
    const answer = await proxy.get(grantUrl(code), BROWSER);
    assert.equal(answer.status, 403);
    assert.equal(service.redeems.at(-1)!.body.serverId, 7, 'the proxy names its own server');
  });

  it("refuses a code granted to a user who neither owns the server nor is an admin, honours an admin's", async () => {
    assert.equal((await proxy.get(grantUrl(issue(base, 'bob')), BROWSER)).status, 403);
    assert.equal(
      (await proxy.get(grantUrl(issue(base, 'root-admin', 7, true)), BROWSER)).status,
      302,
    );
  });

  it('refuses a visitor the service let in by a share, on a server without its own origin', async () => {
    const code = service.grant({ serverId: 7, user: 'bob', shared: true, next: base });
    const answer = await proxy.get(grantUrl(code), BROWSER);
    assert.equal(answer.status, 403);
    assert.equal(sessionCookie(answer.headers['set-cookie']), undefined);
  });

  for (const next of [
    '/apps/bob/echo/x',
    'https://elsewhere.example/',
    '//elsewhere.example/',
    '/apps/alice/echo/../../bob/echo/',
    '/apps/alice/echo/%2e%2e/x',
    '/apps/alice/echoes/',
    '/apps/alice/echo/\\\\evil',
    '',
  ]) {
    it(`sends the browser to the prefix instead of next=${JSON.stringify(next)}`, async () => {
      const answer = await proxy.get(grantUrl(issue(next)), BROWSER);
      assert.equal(answer.status, 302);
      assert.equal(answer.headers.location, base);
    });
  }

  it('answers only GET on the grant endpoint and leaves the code unused otherwise', async () => {
    const code = issue(base);
    assert.equal((await proxy.get(grantUrl(code), BROWSER, 'POST')).status, 405);
    assert.equal(
      (await proxy.get(grantUrl(code), BROWSER)).status,
      302,
      'a refused POST leaves the code unused',
    );
  });
});

describe('hubapps-proxy when the service cannot redeem access codes', () => {
  let catalog: Catalog;
  let service: FakeService;
  let proxy: RunningProxy;

  before(async () => ({ catalog, service, proxy } = await startEchoProxy()));
  after(() => tearDown({ catalog, service, proxy }));

  it('answers 503, not 403, when the service fails, and lets nobody in', async () => {
    service.failRedeems(500);
    const code = service.grant({ serverId: 7, user: 'alice', next: '/apps/alice/echo/' });
    const answer = await proxy.get(`/apps/alice/echo/_hubapps/grant?code=${code}`, BROWSER);
    assert.equal(answer.status, 503);
    assert.equal(sessionCookie(answer.headers['set-cookie']), undefined);
    service.failRedeems(null);
  });

  it('answers 503 when the service does not answer at all', async () => {
    const code = service.grant({ serverId: 7, user: 'alice', next: '/apps/alice/echo/' });
    await service.close();
    const answer = await proxy.get(`/apps/alice/echo/_hubapps/grant?code=${code}`, BROWSER);
    assert.equal(answer.status, 503);
    assert.match(answer.body, /does not answer/);
    assert.equal(sessionCookie(answer.headers['set-cookie']), undefined);
  });
});
