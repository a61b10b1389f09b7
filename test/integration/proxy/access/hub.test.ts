import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { waitFor } from '../../../helpers/index.js';
import {
  HubBrowser,
  PREFIX,
  PUBLIC_ORIGIN,
  startHubBed,
  tearDownHubBed,
  type HubBed,
} from '../hub-bed.js';
import { accessScopesFor } from '../fake-hub.js';

interface Echoed {
  url: string;
  headers: Record<string, string>;
}

const SESSION = 'hubapps-proxy-7';
const STATE = 'hubapps-hub-state-7';

describe('hubapps-proxy of a server JupyterHub started: the hub signs browsers in', () => {
  let bed: HubBed;

  before(async () => (bed = await startHubBed()));
  after(() => tearDownHubBed(bed));
  beforeEach(() => {
    bed.hub.setUser('alice', accessScopesFor('alice/echo'));
    bed.hub.lenientAuthorize = false;
  });

  it("answers the hub's wait_up (a GET of the prefix without cookies) with 401, on loopback TCP", async () => {
    const answer = await bed.proxy.get(PREFIX);
    assert.equal(answer.status, 401);
    assert.match(JSON.parse(answer.body).message, /JUPYTERHUB_TOKEN/);
  });

  it('signs a browser in through the hub: state cookie, authorize, callback, code traded with the api token, then the page it wanted', async () => {
    const browser = new HubBrowser(bed);
    const answer = await browser.go(`${PREFIX}notebooks/a.ipynb?x=1`);
    assert.equal(
      answer.status,
      200,
      JSON.stringify(browser.hops.map((h) => [h.path, h.answer.status])),
    );
    const [first, authorize, callback] = browser.hops;
    const location = new URL(first!.answer.headers.location!, PUBLIC_ORIGIN);
    assert.equal(location.pathname, '/hub/api/oauth2/authorize');
    assert.equal(location.searchParams.get('client_id'), 'jupyterhub-user-alice-echo');
    assert.equal(location.searchParams.get('redirect_uri'), `${PREFIX}oauth_callback`);
    assert.equal(location.searchParams.get('response_type'), 'code');
    const stateCookie = first!.answer.headers['set-cookie']!.find((c) => c.startsWith(STATE))!;
    assert.match(stateCookie, new RegExp(`Path=${PREFIX}oauth_callback; HttpOnly; SameSite=Lax`));
    assert.equal(authorize!.answer.status, 302);
    assert.equal(callback!.path.split('?')[0], `${PREFIX}oauth_callback`);
    assert.equal(callback!.answer.headers.location, `${PREFIX}notebooks/a.ipynb?x=1`);
    const session = callback!.answer.headers['set-cookie']!.find((c) => c.startsWith(SESSION))!;
    assert.match(session, new RegExp(`Path=${PREFIX}; HttpOnly; SameSite=Lax`));
    const tokenCall = bed.hub.calls.findLast((c) => c.url === '/hub/api/oauth2/token')!;
    assert.equal(tokenCall.form!.client_secret, bed.apiToken);
    assert.equal(tokenCall.form!.redirect_uri, `${PREFIX}oauth_callback`);
    const echoed = JSON.parse(answer.body) as Echoed;
    assert.equal(echoed.url, '/notebooks/a.ipynb?x=1');
    assert.equal(echoed.headers['x-hubapps-user'], 'alice');
    assert.equal(echoed.headers.cookie, undefined, 'the proxy cookies never reach the app');
    assert.ok(!bed.proxy.output().includes(bed.apiToken), 'the api token is in the log');
    for (const t of bed.hub.issued) assert.ok(!bed.proxy.output().includes(t));
  });

  it('refuses a callback whose state is not the one sealed in this browser, without asking the hub', async () => {
    const browser = new HubBrowser(bed);
    const first = await browser.request(PREFIX);
    const authorize = new URL(first.headers.location!, PUBLIC_ORIGIN);
    const fromHub = await browser.request(authorize.pathname + authorize.search);
    const back = new URL(fromHub.headers.location!, PUBLIC_ORIGIN);
    back.searchParams.set('state', 'forged-state');
    const before = bed.hub.calls.length;
    const answer = await browser.request(back.pathname + back.search);
    assert.equal(answer.status, 403);
    assert.match(answer.body, /did not start in this browser/);
    assert.equal(bed.hub.calls.length, before, 'the code was not traded');
    // Another browser (no state cookie) bringing the genuine redirect is refused too.
    back.searchParams.set('state', authorize.searchParams.get('state')!);
    const other = new HubBrowser(bed, null);
    assert.equal((await other.request(back.pathname + back.search)).status, 403);
    assert.equal(other.jar.has(SESSION), false);
  });

  it('lets two tabs of one browser sign in at the same time, each to the page it wanted', async () => {
    const browser = new HubBrowser(bed);
    const starts = await Promise.all(
      ['tab-a', 'tab-b'].map((p) => browser.request(`${PREFIX}${p}`)),
    );
    const fromHub = await Promise.all(
      starts.map((s) => {
        const at = new URL(s.headers.location!, PUBLIC_ORIGIN);
        return browser.request(at.pathname + at.search);
      }),
    );
    for (const [i, answer] of fromHub.entries()) {
      const back = await browser.request(answer.headers.location!);
      assert.equal(back.status, 302, back.body);
      assert.equal(back.headers.location, `${PREFIX}${['tab-a', 'tab-b'][i]}`);
    }
  });

  it("refuses a code the hub issued to another server's client (the hub refuses the trade)", async () => {
    bed.hub.register({
      clientId: 'jupyterhub-user-alice-other',
      secret: 'x'.repeat(32),
      redirectUri: '/user/alice/other/oauth_callback',
      server: 'alice/other',
    });
    const browser = new HubBrowser(bed);
    const first = await browser.request(PREFIX);
    const state = new URL(first.headers.location!, PUBLIC_ORIGIN).searchParams.get('state')!;
    const foreign = await browser.request(
      `/hub/api/oauth2/authorize?client_id=jupyterhub-user-alice-other&redirect_uri=${encodeURIComponent('/user/alice/other/oauth_callback')}&response_type=code&state=s`,
    );
    const code = new URL(foreign.headers.location!, PUBLIC_ORIGIN).searchParams.get('code')!;
    const answer = await browser.request(`${PREFIX}oauth_callback?code=${code}&state=${state}`);
    assert.equal(answer.status, 403);
    assert.match(answer.body, /refused the sign-in code/);
    assert.equal(browser.jar.has(SESSION), false);
  });

  it('refuses a hub user without the access scope with a 403 page naming the user and the server', async () => {
    bed.hub.setUser('carol', ['read:users:name!user=carol']);
    bed.hub.lenientAuthorize = true;
    const browser = new HubBrowser(bed, 'carol');
    const answer = await browser.go(PREFIX);
    assert.equal(answer.status, 403);
    assert.match(answer.body, /JupyterHub user carol may not use the server alice\/echo/);
    assert.equal(browser.jar.has(SESSION), false);
    assert.match(answer.body, /href="http:\/\/127\.0\.0\.1\/hub\/home"/);
  });

  it('lets a JupyterHub token with the access scope in, and strips it before the app', async () => {
    const token = bed.hub.token('alice', accessScopesFor('alice/echo'));
    const answer = await bed.proxy.get(`${PREFIX}api`, { authorization: `token ${token}` });
    assert.equal(answer.status, 200);
    const echoed = JSON.parse(answer.body) as Echoed;
    assert.equal(echoed.headers.authorization, undefined);
    assert.equal(echoed.headers['x-hubapps-user'], 'alice');
    const bearer = await bed.proxy.get(`${PREFIX}api`, { authorization: `Bearer ${token}` });
    assert.equal(bearer.status, 200);
  });

  it("sandboxes the server's pages for every hub user but its owner (an admin's or a role's visit), never for the owner", async () => {
    const own = await bed.proxy.get(`${PREFIX}api`, {
      authorization: `token ${bed.hub.token('alice', accessScopesFor('alice/echo'))}`,
    });
    assert.equal(own.status, 200);
    assert.doesNotMatch(String(own.headers['content-security-policy']), /sandbox/);
    bed.hub.setUser('eve', ['access:servers']);
    const visit = await bed.proxy.get(`${PREFIX}api`, {
      authorization: `token ${bed.hub.token('eve', ['access:servers'])}`,
    });
    assert.equal(visit.status, 200);
    assert.match(
      String(visit.headers['content-security-policy']),
      /(?:^|, )sandbox allow-scripts /,
    );
    assert.doesNotMatch(String(visit.headers['content-security-policy']), /allow-same-origin/);
  });

  it('refuses a token without the scope, an unknown token, a hubapps token (never shown to the hub) and ?token=', async () => {
    const narrow = bed.hub.token('alice', ['read:users:name!user=alice']);
    assert.equal(
      (await bed.proxy.get(`${PREFIX}api`, { authorization: `token ${narrow}` })).status,
      403,
    );
    const bobs = bed.hub.token('bob', ['access:servers!server=bob/echo']);
    bed.hub.setUser('bob', ['access:servers!server=bob/echo']);
    assert.equal(
      (await bed.proxy.get(`${PREFIX}api`, { authorization: `token ${bobs}` })).status,
      403,
    );
    assert.equal(
      (await bed.proxy.get(`${PREFIX}api`, { authorization: 'token nope' })).status,
      403,
    );
    const before = bed.hub.calls.length;
    const ours = await bed.proxy.get(`${PREFIX}api`, {
      authorization: 'token ha_aaaaaaaaaaaaaaaaaaaa',
    });
    assert.equal(ours.status, 403);
    assert.equal(bed.hub.calls.length, before);
    assert.equal(bed.service.calls.length, 0, 'the service is never asked about tokens');
    const good = bed.hub.token('alice', accessScopesFor('alice/echo'));
    assert.equal((await bed.proxy.get(`${PREFIX}api?token=${good}`)).status, 401);
  });

  it("does not take the service's grant endpoint: a hubapps access code opens nothing", async () => {
    const code = bed.service.grant({ serverId: 7, user: 'alice', next: PREFIX });
    const answer = await bed.proxy.get(`${PREFIX}_hubapps/grant?code=${code}`, {
      accept: 'text/html',
      cookie: `hubapps-grant-7=${'g'.repeat(43)}`,
    });
    assert.equal(answer.status, 302);
    assert.match(answer.headers.location!, /^\/hub\/api\/oauth2\/authorize\?/);
    assert.equal(bed.service.redeems.length, 0);
  });
});

describe('hubapps-proxy of a hub server re-validates at the hub', () => {
  let bed: HubBed;

  before(async () => (bed = await startHubBed({ revalidateMs: 1000 })));
  after(() => tearDownHubBed(bed));
  beforeEach(async () => {
    bed.hub.setUser('alice', accessScopesFor('alice/echo'));
    await bed.hub.up().catch(() => undefined);
  });

  async function signedIn(): Promise<HubBrowser> {
    const browser = new HubBrowser(bed);
    assert.equal((await browser.go(PREFIX)).status, 200);
    return browser;
  }

  function openSocket(browser: HubBrowser): Promise<WebSocket> {
    const ws = new WebSocket(`ws://127.0.0.1:${bed.proxy.spec.port}${PREFIX}ws`, {
      headers: { cookie: browser.cookieFor(`${PREFIX}ws`), origin: PUBLIC_ORIGIN },
    });
    return new Promise((resolve, reject) => {
      ws.once('message', () => resolve(ws));
      ws.once('error', reject);
    });
  }

  for (const [what, take] of [
    ['the hub revokes the token', (b: HubBed) => b.hub.revoke(b.hub.issued.at(-1)!)],
    ['the user loses the access scope', (b: HubBed) => b.hub.setUser('alice', [])],
  ] as const) {
    it(`ends a browser's access and closes its open WebSocket when ${what}`, async () => {
      const browser = await signedIn();
      const ws = await openSocket(browser);
      const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
      take(bed);
      await Promise.race([
        closed,
        sleep(4000).then(() => assert.fail('the websocket stayed open')),
      ]);
      const again = await browser.request(`${PREFIX}page`, { accept: 'application/json' });
      assert.equal(again.status, 401);
    });
  }

  it('keeps a session through one more interval while the hub is down, then refuses with 503 and closes its WebSocket', async () => {
    const browser = await signedIn();
    const ws = await openSocket(browser);
    const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    await bed.hub.down();
    await sleep(1100);
    assert.equal((await browser.request(`${PREFIX}page`)).status, 200, 'within the grace');
    const refused = await waitFor(
      async () => {
        const a = await browser.request(`${PREFIX}page`);
        return a.status === 503 ? a : null;
      },
      { timeout: 5000, what: 'the session to be refused' },
    );
    assert.match(refused.body, /JupyterHub does not answer/);
    await Promise.race([closed, sleep(4000).then(() => assert.fail('the websocket stayed open'))]);
    const token = await bed.proxy.get(`${PREFIX}api`, { authorization: 'token 0123456789abcdef' });
    assert.equal(token.status, 503);
  });

  it('answers a sign-in callback with 503 while the hub is down', async () => {
    const browser = new HubBrowser(bed);
    const first = await browser.request(PREFIX);
    const state = new URL(first.headers.location!, PUBLIC_ORIGIN).searchParams.get('state')!;
    await bed.hub.down();
    const answer = await browser.request(
      `${PREFIX}oauth_callback?code=abcdefgh12345678&state=${state}`,
    );
    assert.equal(answer.status, 503);
    assert.equal(browser.jar.has(SESSION), false);
  });
});
