import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { waitFor } from '../helpers/wait.js';
import { TEST_GROUP, TEST_USERS } from '../system/harness.js';
import { apiFromPage, hubLogin, newContext, webSocketFromPage } from './browser.js';
import { APPS_DOMAIN, HubStack } from './stack.js';
import { useHubStack } from './hub-suite.js';

const { alice, bob, carol } = TEST_USERS;
/** Seconds between re-validations of a browser's access (config session_revalidate), short so revocation shows quickly. */
const REVALIDATE_S = 2;

/**
 * Sharing with everything real: JupyterHub, both CHPs, hubapps with the sudo launcher, three
 * test Unix accounts in the allowed group and headless Chromium. Alice shares her server
 * with bob; bob uses it in his browser; carol, an admin without admin_access, can neither
 * get in nor share alice's server with herself; alice revokes; and alice's app, open in
 * bob's browser, tries to act on bob's own server and on the launcher as bob.
 */
describe('e2e: sharing a server with another user (real sudo, both CHPs, JupyterHub, Chromium, three users)', function () {
  this.timeout(60_000);
  const stack = new HubStack({
    hostLayout: true,
    config: { session_revalidate: REVALIDATE_S, admin_users: [carol] },
  });
  let browser: Browser;
  let alicePage: Page;
  let bobCtx: BrowserContext;
  let bobPage: Page;
  /** Alice's shared app, open in bob's browser. */
  let visit: Page;
  const host = (user: string) => `echo--${user}.${APPS_DOMAIN}:${stack.appsChp!.port}`;
  const server = (user: string, path = '/') => `http://${host(user)}${path}`;
  const hub = (path: string) => `${stack.publicUrl}${path}`;

  async function loginToHubapps(user: string): Promise<{ context: BrowserContext; page: Page }> {
    const context = await newContext(browser, { appsDomain: APPS_DOMAIN });
    const page = await context.newPage();
    let landed = false;
    page.on('response', (r) => {
      if (
        r.request().isNavigationRequest() &&
        new URL(r.url()).pathname === '/services/hubapps/oauth_callback'
      )
        landed = true;
    });
    await hubLogin(page, stack.publicUrl, user, stack.password);
    await waitFor(
      async () =>
        landed &&
        (await page.evaluate(() => fetch('/services/hubapps/api/user').then((r) => r.status))) ===
          200,
      {
        timeout: 15_000,
        what: `${user} to be logged in to hubapps`,
      },
    );
    await page.goto(hub('/services/hubapps/'));
    return { context, page };
  }

  async function start(page: Page, user: string): Promise<void> {
    const started = await apiFromPage(page, 'POST', `/users/${user}/servers/echo`, { app: 'echo' });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    await waitFor(
      async () =>
        (await apiFromPage(page, 'GET', `/users/${user}/servers/echo`)).body.state === 'running',
      { timeout: 20_000, what: `${user}'s server to run` },
    );
  }

  const tokensOf = (user: string): number => {
    const db = new Database(stack.dbFile, { readonly: true, fileMustExist: true });
    try {
      return db.prepare('SELECT COUNT(*) FROM tokens WHERE user = ?').pluck().get(user) as number;
    } finally {
      db.close();
    }
  };

  const auditOf = (user: string): string[] => {
    const db = new Database(stack.dbFile, { readonly: true, fileMustExist: true });
    try {
      return db
        .prepare("SELECT message FROM events WHERE user = ? AND kind = 'audit' ORDER BY id")
        .pluck()
        .all(user) as string[];
    } finally {
      db.close();
    }
  };

  useHubStack(stack, {
    setUpMs: 150_000,
    ready: async (b) => void (browser = b),
  });

  it("lets alice share her running server with bob in the launcher's Sharing dialog, and lists it for bob only", async () => {
    ({ page: alicePage } = await loginToHubapps(alice));
    await start(alicePage, alice);
    await alicePage.reload();
    await alicePage
      .locator(`#mine tr[data-server="${alice}/echo"] button[data-key="share"]`)
      .click();
    await alicePage.fill('#share-name', bob);
    await alicePage.locator('#share-form button[type="submit"]').click();
    await alicePage.locator(`#share-list li`, { hasText: `user ${bob}` }).waitFor();
    await alicePage.locator('#share-close').click();
    ({ context: bobCtx, page: bobPage } = await loginToHubapps(bob));
    const mine = await apiFromPage(bobPage, 'GET', `/users/${bob}/shared-with-me`);
    assert.deepEqual(
      mine.body.shares.map((s: { owner: string; url: string }) => [s.owner, s.url]),
      [[alice, server(alice)]],
    );
    assert.equal(
      (await apiFromPage(bobPage, 'GET', `/users/${alice}/servers/echo/shares`)).status,
      403,
    );
  });

  it('lets bob open alice\'s server from "Shared with me" and use it over HTTP and WebSocket, named to the app as bob', async () => {
    visit = await bobCtx.newPage();
    await visit.goto(hub('/services/hubapps/'));
    const open = visit.locator(
      `#shared-section tr[data-server="${alice}/echo"] a[data-key="open"]`,
    );
    await Promise.all([
      visit.waitForURL((u) => u.host === host(alice), { waitUntil: 'load' }),
      open.click(),
    ]);
    assert.equal(await visit.textContent('#who'), `echo app of ${alice}`);
    assert.equal(await visit.textContent('#visitor'), bob);
    await visit.goto(server(alice, '/shared'));
    assert.equal(await visit.textContent('#url'), '/shared');
    assert.equal(await webSocketFromPage(visit, '/ws', 'hi'), 'echo:hi');
  });

  it("keeps carol, an allowed user without a share, out of alice's server", async () => {
    const { context, page } = await loginToHubapps(carol);
    const res = await page.goto(server(alice));
    assert.equal(res!.status(), 403);
    assert.equal(await page.$('#who'), null);
    assert.deepEqual(
      (await context.cookies()).filter(
        (c) =>
          c.domain.endsWith(APPS_DOMAIN) &&
          c.name.startsWith('__Host-hubapps-') &&
          !c.name.includes('grant'),
      ),
      [],
    );
    await context.close();
  });

  it("gives carol, an admin without admin_access, no share, share link, login link or token of alice's server from her launcher page, and no way in", async () => {
    const { context, page } = await loginToHubapps(carol);
    const attempts: Array<[string, unknown]> = [
      [`/users/${alice}/servers/echo/shares`, { user: carol }],
      [`/users/${alice}/servers/echo/shares`, { group: TEST_GROUP }],
      [`/users/${alice}/servers/echo/share-links`, {}],
      [`/users/${alice}/login-links`, {}],
      [`/users/${alice}/tokens`, {}],
    ];
    for (const [path, body] of attempts) {
      const r = await apiFromPage(page, 'POST', path, body);
      assert.equal(r.status, 403, `${path} ${JSON.stringify(body)}: ${JSON.stringify(r.body)}`);
    }
    assert.deepEqual(
      (await apiFromPage(page, 'GET', `/users/${alice}/servers/echo/shares`)).body.shares.map(
        (s: { user?: string }) => s.user,
      ),
      [bob],
      'carol lists the shares',
    );
    assert.equal((await page.goto(server(alice)))!.status(), 403);
    assert.equal(await page.$('#who'), null);
    await context.close();
  });

  it("gives alice's page in bob's browser no way to act on bob's own server or on the launcher as bob", async () => {
    await start(bobPage, bob);
    await bobPage.goto(server(bob));
    assert.equal(
      await bobPage.textContent('#who'),
      `echo app of ${bob}`,
      'bob holds his own access cookie',
    );
    await visit.goto(server(alice, '/attack'));
    const tokens = tokensOf(bob);
    const attempts = await visit.evaluate(
      async ({ bobServer, bobWs, api, user }) => {
        const out: Record<string, string> = {};
        try {
          const res = await fetch(`${bobServer}secret`, { credentials: 'include' });
          out.read = `read ${res.status}`;
        } catch {
          out.read = 'blocked';
        }
        await fetch(`${bobServer}api/contents`, {
          method: 'POST',
          mode: 'no-cors',
          credentials: 'include',
          body: 'x',
        }).catch(() => undefined);
        out.ws = await new Promise<string>((resolve) => {
          const ws = new (globalThis as any).WebSocket(bobWs);
          const timer = setTimeout(() => resolve('timeout'), 5000);
          ws.onopen = () => ws.send('steal');
          ws.onmessage = (ev: { data: unknown }) => (clearTimeout(timer), resolve(String(ev.data)));
          ws.onerror = () => (clearTimeout(timer), resolve('error'));
        });
        await fetch(`${api}/users/${user}/tokens`, {
          method: 'POST',
          mode: 'no-cors',
          credentials: 'include',
          headers: { 'content-type': 'text/plain' },
          body: '{"note":"stolen"}',
        }).catch(() => undefined);
        try {
          const res = await fetch(`${api}/user`, { credentials: 'include' });
          out.launcher = `read ${res.status}`;
        } catch {
          out.launcher = 'blocked';
        }
        return out;
      },
      {
        bobServer: server(bob),
        bobWs: `ws://${host(bob)}/ws`,
        api: hub('/services/hubapps/api'),
        user: bob,
      },
    );
    assert.deepEqual(attempts, { read: 'blocked', ws: 'error', launcher: 'blocked' });
    assert.equal(tokensOf(bob), tokens, "a token was minted for bob from alice's page");
  });

  it("ends bob's open WebSocket and his next request within the re-validation interval once alice revokes the share", async () => {
    await visit.goto(server(alice, '/before-revoke'));
    await visit.evaluate(
      (url) =>
        new Promise<void>((resolve, reject) => {
          const g = globalThis as any;
          const ws = new g.WebSocket(url);
          g.wsClosed = false;
          ws.onopen = () => resolve();
          ws.onerror = () => reject(new Error('websocket refused'));
          ws.onclose = () => (g.wsClosed = true);
        }),
      `ws://${host(alice)}/ws`,
    );
    const list = await apiFromPage(alicePage, 'GET', `/users/${alice}/servers/echo/shares`);
    const id = list.body.shares.find((s: { user?: string }) => s.user === bob).id;
    assert.equal(
      (await apiFromPage(alicePage, 'DELETE', `/users/${alice}/servers/echo/shares/${id}`)).status,
      204,
    );
    await waitFor(() => visit.evaluate(() => (globalThis as any).wsClosed === true), {
      timeout: 4 * REVALIDATE_S * 1000 + 10_000,
      what: "bob's WebSocket to be closed",
    });
    const status = () => visit.evaluate(() => fetch('/after-revoke').then((r) => r.status));
    await waitFor(async () => (await status()) === 401, {
      timeout: 4 * REVALIDATE_S * 1000 + 10_000,
      what: "bob's requests to be refused",
    });
    const res = await visit.goto(server(alice, '/again'));
    assert.equal(res!.status(), 403, 'the authorize page gives bob no new access code');
    assert.equal(await visit.$('#who'), null);
    const audit = auditOf(alice);
    for (const line of [
      `${alice} shared ${alice}/echo with user ${bob}`,
      `${bob} opened ${alice}/echo as a visitor (shared)`,
      `${alice} revoked the share of ${alice}/echo with user ${bob}`,
    ]) {
      assert.ok(audit.includes(line), `audit trail lacks "${line}":\n${audit.join('\n')}`);
    }
  });
  it('lets a single-use share link from the Sharing dialog in bob, who presses its button, and nobody after him', async () => {
    await alicePage.goto(hub('/services/hubapps/'));
    await alicePage
      .locator(`#mine tr[data-server="${alice}/echo"] button[data-key="share"]`)
      .click();
    await alicePage.locator('#share-link-make').click();
    await alicePage.locator('#share-link-url:not([hidden])').waitFor();
    const url = await alicePage.inputValue('#share-link-url');
    assert.ok(url.startsWith(hub('/services/hubapps/share-link?code=')), url);
    const page = await bobCtx.newPage();
    await page.goto(url);
    assert.equal(
      new URL(page.url()).origin,
      new URL(stack.publicUrl).origin,
      'opening the link alone went on to the server',
    );
    assert.match((await page.textContent('body'))!, /Accept and open/);
    await Promise.all([
      page.waitForURL((u) => u.host === host(alice), { waitUntil: 'load' }),
      page.locator('button[type="submit"]').click(),
    ]);
    assert.equal(await page.textContent('#visitor'), bob);
    const { context, page: carolPage } = await loginToHubapps(carol);
    await carolPage.goto(url);
    await carolPage.locator('button[type="submit"]').click();
    await carolPage.waitForLoadState('load');
    assert.match((await carolPage.textContent('body'))!, /expired, was used up or was revoked/);
    assert.equal((await carolPage.goto(server(alice)))!.status(), 403);
    await context.close();
  });
});
