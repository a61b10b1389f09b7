import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import type { Browser, BrowserContext, Cookie, Page } from 'playwright-core';
import { waitFor } from '../helpers/wait.js';
import { TEST_USERS } from '../system/harness.js';
import { apiFromPage, hubLogin, newContext, webSocketFromPage } from './browser.js';
import { APPS_DOMAIN, HubStack } from './stack.js';
import { useHubStack } from './hub-suite.js';

const { alice, bob } = TEST_USERS;

/**
 * Per-server origins with everything real: JupyterHub (its CHP untouched, path routing),
 * the apps CHP (host routing), hubapps as a JupyterHub service with the sudo launcher, test
 * Unix accounts, and headless Chromium, which resolves *.apps.localhost to loopback. Bob's
 * page runs in alice's browser and tries to reach her server and the launcher.
 */
describe('e2e: per-server origins, each server on its own host name (real sudo, both CHPs, JupyterHub, Chromium)', function () {
  this.timeout(60_000);
  const stack = new HubStack({ hostLayout: true });
  let browser: Browser;
  let aliceCtx: BrowserContext;
  let alicePage: Page;
  let bobCtx: BrowserContext;
  let bobPage: Page;
  /** A page of bob's server, loaded in alice's browser: the attacker's foothold. */
  let attack: Page;
  const hub = (path: string) => `${stack.publicUrl}${path}`;
  const host = (user: string) => `echo--${user}.${APPS_DOMAIN}:${stack.appsChp!.port}`;
  const server = (user: string, path = '/') => `http://${host(user)}${path}`;
  const accessCookie = (user: string) => `__Host-hubapps-${stack.server(user, 'echo')!.id}`;
  const cookiesOf = async (context: BrowserContext, name?: string): Promise<Cookie[]> =>
    (await context.cookies()).filter((c) => name === undefined || c.name === name);

  /** Log in on the hub's form; the hub sends the browser to the launcher, which logs it in to hubapps (OAuth). */
  async function loginToHubapps(user: string): Promise<{ context: BrowserContext; page: Page }> {
    const context = await newContext(browser, { appsDomain: APPS_DOMAIN });
    const page = await context.newPage();
    // The launcher loads twice: first without a session (its script goes on to log in), then after the OAuth callback.
    const events: string[] = [];
    page.on('response', (r) => {
      if (r.request().isNavigationRequest()) events.push(new URL(r.url()).pathname);
    });
    page.on('load', () => events.push('load'));
    await hubLogin(page, stack.publicUrl, user, stack.password);
    const callback = '/services/hubapps/oauth_callback';
    await waitFor(
      () => events.includes(callback) && events.slice(events.indexOf(callback)).includes('load'),
      {
        timeout: 15_000,
        what: `${user} to land on the launcher after logging in to hubapps (went through ${events.join(' ')})`,
      },
    );
    assert.equal(new URL(page.url()).pathname, '/services/hubapps/');
    assert.equal((await cookiesOf(context, 'hubapps-session')).length, 1);
    return { context, page };
  }

  /** Start the echo server from the launcher page's own API calls, then open it with the launcher's Open link. */
  async function startAndOpen(page: Page, user: string): Promise<void> {
    const started = await apiFromPage(page, 'POST', `/users/${user}/servers/echo`, { app: 'echo' });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    assert.equal(started.body.url, server(user));
    await waitFor(
      async () =>
        (await apiFromPage(page, 'GET', `/users/${user}/servers/echo`)).body.state === 'running',
      { timeout: 20_000, what: `${user}'s server to run` },
    );
    await page.reload();
    await Promise.all([
      page.waitForURL((u) => u.host === host(user), { waitUntil: 'load' }),
      page.locator('a[data-key="open"]').first().click(),
    ]);
    assert.equal(await page.textContent('#who'), `echo app of ${user}`);
  }

  /** Submit a POST form from bob's page in alice's browser (the page navigates to `action`'s answer). */
  async function postForm(
    action: string,
    field: string,
    value: string,
    enctype = 'application/x-www-form-urlencoded',
  ): Promise<void> {
    await attack.evaluate(
      ({ action, field, value, enctype }) => {
        const doc = (globalThis as any).document;
        const form = doc.createElement('form');
        Object.assign(form, { method: 'POST', action, enctype });
        const input = doc.createElement('input');
        Object.assign(input, { name: field, value });
        form.append(input);
        doc.body.append(form);
        form.submit();
      },
      { action, field, value, enctype },
    );
  }

  useHubStack(stack, {
    setUpMs: 150_000,
    ready: async (b) => void (browser = b),
  });

  it("opens alice's server from the launcher on its own host, logged in with a host-only __Host- cookie", async () => {
    ({ context: aliceCtx, page: alicePage } = await loginToHubapps(alice));
    await startAndOpen(alicePage, alice);
    assert.equal(alicePage.url(), server(alice));
    const [access, ...others] = await cookiesOf(aliceCtx, accessCookie(alice));
    assert.equal(others.length, 0);
    assert.deepEqual(
      [access!.domain, access!.path, access!.secure, access!.httpOnly, access!.sameSite],
      [`echo--${alice}.${APPS_DOMAIN}`, '/', true, true, 'Lax'],
    );
    assert.deepEqual(
      (await cookiesOf(aliceCtx)).filter(
        (c) => c.domain.endsWith(APPS_DOMAIN) && c.name !== access!.name,
      ),
      [],
    );
  });

  it("routes each server by its host in the apps CHP and leaves JupyterHub's CHP without server routes", async () => {
    const routes = await stack.appsRoutes();
    const mine = routes[`/echo--${alice}.${APPS_DOMAIN}`];
    assert.ok(mine?.hubapps, Object.keys(routes).join(', '));
    assert.equal(mine.user, alice);
    const hubRoutes = await fetch(`${stack.chp!.apiUrl}/api/routes`, {
      headers: { authorization: `token ${stack.chpToken}` },
    }).then((r) => r.json() as Promise<object>);
    assert.ok(
      !Object.keys(hubRoutes).some((k) => k.startsWith(`/apps/${alice}/`)),
      Object.keys(hubRoutes).join(', '),
    );
  });

  it("sends the old path address on the hub to the server's own host", async () => {
    await alicePage.goto(hub(`/apps/${alice}/echo/old/path?x=1`));
    assert.equal(alicePage.url(), server(alice, '/old/path?x=1'));
    assert.equal(await alicePage.textContent('#url'), '/old/path?x=1');
  });

  it("refuses bob on alice's host: the launcher says whose server it is, and no cookie is set", async () => {
    ({ context: bobCtx, page: bobPage } = await loginToHubapps(bob));
    const res = await bobPage.goto(server(alice));
    assert.equal(res!.status(), 403);
    assert.equal(new URL(bobPage.url()).pathname, '/services/hubapps/authorize');
    assert.equal(await bobPage.$('#who'), null);
    assert.deepEqual(await cookiesOf(bobCtx, accessCookie(alice)), []);
    await bobPage.goto(hub('/services/hubapps/'));
    await startAndOpen(bobPage, bob);
  });

  it("loads a page of bob's server in alice's browser (the attacker's foothold for the tests below)", async () => {
    // However bob got his page in front of her, it runs with bob's access: his cookie, in her browser.
    await aliceCtx.addCookies(await cookiesOf(bobCtx, accessCookie(bob)));
    attack = await aliceCtx.newPage();
    await attack.goto(server(bob, '/attack'));
    assert.equal(await attack.textContent('#who'), `echo app of ${bob}`);
  });

  it("lets bob's page read nothing of alice's server with a credentialed fetch", async () => {
    const got = await attack.evaluate(
      async (url) => {
        try {
          const res = await fetch(url, { credentials: 'include' });
          return `read ${res.status}: ${(await res.text()).slice(0, 80)}`;
        } catch {
          return 'blocked';
        }
      },
      server(alice, '/secret'),
    );
    assert.equal(got, 'blocked');
  });

  it("refuses a form POST from bob's page to alice's server, although the browser attaches her cookie (same site)", async () => {
    await Promise.all([
      attack.waitForURL((u) => u.host === host(alice), { waitUntil: 'load' }),
      postForm(server(alice, '/api/contents'), 'cmd', 'rm -rf ~'),
    ]);
    assert.match(
      (await attack.textContent('body'))!,
      /refused: this request comes from a page outside this server/,
    );
    assert.equal(await attack.$('#who'), null);
    await attack.goto(server(bob, '/attack'));
  });

  it("refuses a WebSocket from bob's page to alice's server, while alice's own page gets one", async () => {
    const fromBob = await attack.evaluate(
      (url) =>
        new Promise<string>((resolve) => {
          const ws = new (globalThis as any).WebSocket(url);
          const timer = setTimeout(() => resolve('timeout'), 5000);
          ws.onopen = () => ws.send('steal');
          ws.onmessage = (ev: { data: unknown }) => (clearTimeout(timer), resolve(String(ev.data)));
          ws.onerror = () => (clearTimeout(timer), resolve('error'));
        }),
      `ws://${host(alice)}/ws`,
    );
    assert.equal(fromBob, 'error');
    await alicePage.goto(server(alice));
    assert.equal(await webSocketFromPage(alicePage, '/ws', 'ping'), 'echo:ping');
  });

  it("keeps cookies bob's app or page tosses onto the apps domain from replacing or standing in for alice's access cookie", async () => {
    const before = (await cookiesOf(aliceCtx, accessCookie(alice)))[0]!;
    // From bob's app: Set-Cookie with Domain=apps.localhost, which the proxy drops.
    await attack.goto(server(bob, `/attack?toss=${encodeURIComponent(accessCookie(alice))}`));
    await attack.goto(server(bob, '/attack?toss=tossed'));
    assert.deepEqual(
      (await cookiesOf(aliceCtx)).filter((c) => c.domain.replace(/^\./, '') === APPS_DOMAIN),
      [],
      'the proxy let a domain-wide cookie through',
    );
    // From bob's page's script: the browser refuses a __Host- name with a Domain; other names it accepts, and they mean nothing.
    await attack.evaluate(
      (names) => {
        for (const name of names)
          (globalThis as any).document.cookie =
            `${name}=forged; Domain=apps.localhost; Path=/; Secure`;
      },
      [accessCookie(alice), accessCookie(alice).replace('__Host-hubapps-', 'hubapps-proxy-')],
    );
    const after = (await cookiesOf(aliceCtx, accessCookie(alice))).filter(
      (c) => c.domain === `echo--${alice}.${APPS_DOMAIN}`,
    );
    assert.deepEqual(
      after.map((c) => c.value),
      [before.value],
    );
    await alicePage.goto(server(alice, '/still-mine'));
    assert.equal(await alicePage.textContent('#who'), `echo app of ${alice}`);
    const stranger = await newContext(browser, { appsDomain: APPS_DOMAIN });
    await stranger.addCookies(
      (await cookiesOf(aliceCtx)).filter((c) => c.domain.replace(/^\./, '') === APPS_DOMAIN),
    );
    const page = await stranger.newPage();
    await page.goto(server(alice));
    assert.equal(await page.$('#who'), null, "the tossed cookies opened alice's server");
    await stranger.close();
  });

  it("keeps the launcher and its API out of reach of bob's page: nothing readable, no token minted for alice", async () => {
    const tokens = () => {
      const db = new Database(stack.dbFile, { readonly: true, fileMustExist: true });
      try {
        return db
          .prepare('SELECT COUNT(*) FROM tokens WHERE user = ?')
          .pluck()
          .get(alice) as number;
      } finally {
        db.close();
      }
    };
    const count = tokens();
    const read = await attack.evaluate(
      async ({ api, user }) => {
        await fetch(`${api}/users/${user}/tokens`, {
          method: 'POST',
          mode: 'no-cors',
          credentials: 'include',
          headers: { 'content-type': 'text/plain' },
          body: '{"note":"stolen"}',
        }).catch(() => undefined);
        try {
          const res = await fetch(`${api}/user`, { credentials: 'include' });
          return `read ${res.status}`;
        } catch {
          return 'blocked';
        }
      },
      { api: hub('/services/hubapps/api'), user: alice },
    );
    assert.equal(read, 'blocked');
    // text/plain forms can carry a JSON-looking body: {"note":"stolen","x":"="}
    await Promise.all([
      attack.waitForURL((u) => u.host !== host(bob), { waitUntil: 'load' }),
      postForm(
        hub(`/services/hubapps/api/users/${alice}/tokens`),
        '{"note":"stolen","x":"',
        '"}',
        'text/plain',
      ),
    ]);
    assert.doesNotMatch((await attack.textContent('body'))!, /"token"/);
    assert.equal(tokens(), count, "a token was minted for alice from bob's page");
  });

  it("puts the host routes back after the apps CHP restarts, and alice's page works again", async () => {
    await stack.restartAppsChp();
    await waitFor(async () => (await stack.appsRoutes())[`/echo--${alice}.${APPS_DOMAIN}`], {
      timeout: 15_000,
      what: "reconcile to restore alice's host route",
    });
    await alicePage.goto(server(alice, '/after-restart'));
    assert.equal(await alicePage.textContent('#url'), '/after-restart');
  });

  it('offers a stopped server when alice opens its host, starts it on her click in the launcher, and lands where she asked', async () => {
    const stopped = await apiFromPage(bobPage, 'GET', `/users/${bob}/servers/echo`);
    assert.equal(stopped.status, 200);
    await alicePage.goto(hub('/services/hubapps/'));
    const stop = await apiFromPage(alicePage, 'DELETE', `/users/${alice}/servers/echo`);
    assert.ok(stop.status < 300, JSON.stringify(stop.body));
    await waitFor(async () => stack.server(alice, 'echo')?.state === 'stopped', {
      timeout: 15_000,
      what: "alice's server to stop",
    });
    await alicePage.goto(server(alice, '/again?x=2'));
    await alicePage.locator('#visit', { hasText: 'Not running — start it?' }).waitFor();
    assert.equal(stack.server(alice, 'echo')?.state, 'stopped', 'started without a click');
    await alicePage.locator('#visit button.primary').click();
    await waitFor(
      async () =>
        new URL(alicePage.url()).host === host(alice) && (await alicePage.$('#who')) !== null,
      {
        timeout: 30_000,
        what: `the launcher to start alice's server and go on to it (at ${alicePage.url()})`,
      },
    );
    assert.equal(await alicePage.textContent('#url'), '/again?x=2');
  });
});
