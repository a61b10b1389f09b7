/**
 * Who may open a server HubappsSpawner started: through JupyterHub 3.0's CHP and directly at
 * the proxy's loopback port, with browsers (bob's, and bob's page in alice's browser, which
 * the hub lets her open through a role), hub tokens with and without the access scope, a
 * hubapps token, and another local Unix account. Real sudo, CHP, port guard and Chromium.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { TEST_USERS, runOk } from '../system/harness.js';
import { connectAs } from '../system/harness-guard.js';
import { apiFromPage } from './browser.js';
import { loginToHubapps } from './hub-login.js';
import { bobsAttackPage, type AttackName } from './hub-spawner-attack.js';
import { confirmAuthorizeIfAsked, hubTokenFromPage } from './hub-spawner-steps.js';
import {
  ALICE_PATH,
  ALICE_SECRET,
  ALICE_SERVER,
  BOB_SERVER,
  SpawnerStack,
  showsAlicesApp,
} from './spawner-stack.js';
import { useSpawnerSuite, waitReady } from './spawner-suite.js';

const { alice, bob } = TEST_USERS;
const BOB_PATH = `/user/${bob}/${BOB_SERVER}/`;

describe("e2e: who may open a server HubappsSpawner started (JupyterHub 3.0, CHP, the proxy's port, sudo, port guard, Chromium)", function () {
  this.timeout(90_000);
  const s = new SpawnerStack();
  const stack = s.hub;
  const suite = useSpawnerSuite(s);
  let aliceCtx: BrowserContext;
  let alicePage: Page;
  let aliceToken = '';
  let bobCtx: BrowserContext;
  let bobToken = '';
  const url = (path: string) => s.url(path);

  before(async () => {
    ({ context: aliceCtx, page: alicePage, token: aliceToken } = suite.alice);
    ({ context: bobCtx, token: bobToken } = suite.bob);
    const started = await s.hubApi(aliceToken, 'POST', `/users/${alice}/servers/${ALICE_SERVER}`, {
      app: 'echo',
    });
    assert.ok([201, 202].includes(started.status), JSON.stringify(started.body));
    await waitReady(s, alice, ALICE_SERVER);
    await alicePage.goto(url(ALICE_PATH));
    await confirmAuthorizeIfAsked(alicePage);
    assert.ok(await showsAlicesApp(alicePage), 'alice opened her own server');
  });

  describe("who may not open alice's server", () => {
    let narrowToken = '';
    let launcherToken = '';
    let direct = '';

    before(async () => {
      // Her own token that may start and stop her servers but not open them.
      narrowToken = await hubTokenFromPage(alicePage, stack.publicUrl, alice, [
        `servers!user=${alice}`,
      ]);
      const launcher = await loginToHubapps(suite.browser, stack.publicUrl, stack.password, alice);
      const made = await apiFromPage(launcher.page, 'POST', `/users/${alice}/tokens`, {
        note: 'e2e',
      });
      assert.equal(made.status, 201, JSON.stringify(made.body));
      launcherToken = made.body.token as string;
      await launcher.context.close();
      direct = await s.hubTarget(alice, ALICE_SERVER);
    });

    it("refuses bob's browser at /user/alice/SERVER/ and shows him nothing of the app", async () => {
      const page = await bobCtx.newPage();
      const statuses: number[] = [];
      page.on('response', (r) => {
        if (r.request().isNavigationRequest() && r.request().frame() === page.mainFrame())
          statuses.push(r.status());
      });
      await page.goto(url(ALICE_PATH));
      await confirmAuthorizeIfAsked(page);
      assert.equal(statuses.at(-1), 403, `ended at ${page.url()} (${statuses.join(' ')})`);
      assert.ok(!(await page.content()).includes(ALICE_SECRET));
      await page.close();
    });

    for (const [who, token] of [
      ["bob's hub token", () => bobToken],
      ["alice's hub token without an access scope (servers!user only)", () => narrowToken],
      ["alice's hubapps API token", () => launcherToken],
    ] as const) {
      it(`refuses ${who}, through CHP and directly at the proxy's port`, async () => {
        for (const base of [stack.publicUrl, direct]) {
          const res = await fetch(`${base}${ALICE_PATH}`, {
            headers: { authorization: `token ${token()}` },
          });
          const text = await res.text();
          assert.ok([401, 403].includes(res.status), `${base}: ${res.status}`);
          assert.ok(!text.includes(ALICE_SECRET), base);
        }
      });
    }

    it("leaves bob's Unix account only her proxy's port: her app's own port refuses his connections (port guard)", async () => {
      const { port, app_port } = s.row(alice, ALICE_SERVER);
      assert.ok(port && app_port && port !== app_port, `ports ${port} ${app_port}`);
      assert.equal(await connectAs(bob, app_port), 'ECONNREFUSED');
      assert.equal(await connectAs(alice, app_port), 'connected', 'alice reaches her own app');
      // Open to local accounts by design (CHP and the hub's wait_up connect to it); the proxy asks for credentials.
      assert.equal(await connectAs(bob, port), 'connected');
    });

    it("lets alice's own hub token in at both places (the refusals above are about the credential)", async () => {
      for (const base of [stack.publicUrl, direct]) {
        const res = await fetch(`${base}${ALICE_PATH}`, {
          headers: { authorization: `token ${aliceToken}` },
        });
        assert.equal(res.status, 200, base);
        assert.match(await res.text(), new RegExp(ALICE_SECRET));
      }
    });
  });

  describe("a page of bob's app, which alice may open (a hub role), in her browser", () => {
    let attack: Page;
    const run = (name: AttackName) =>
      attack.evaluate((n) => (globalThis as any).attack[n]() as Promise<string>, name);

    before(async () => {
      const www = join('/home', bob, 'www');
      await mkdir(www, { recursive: true });
      await writeFile(join(www, 'attack.html'), bobsAttackPage(ALICE_PATH));
      await runOk('chown', ['-R', `${bob}:`, www]);
      const started = await s.hubApi(bobToken, 'POST', `/users/${bob}/servers/${BOB_SERVER}`, {
        app: 'www',
      });
      assert.ok([201, 202].includes(started.status), JSON.stringify(started.body));
      await waitReady(s, bob, BOB_SERVER);
      attack = await aliceCtx.newPage();
      await attack.goto(url(`${BOB_PATH}attack.html`));
      await confirmAuthorizeIfAsked(attack);
      assert.equal(await attack.textContent('#attack'), "bob's page");
      assert.ok(await showsAlicesApp(alicePage), "alice's own tab still shows her app");
    });

    it("does not let bob's own browser cookies (his hub login, his server's proxy cookie) open alice's server, through CHP or at her proxy's port", async () => {
      const page = await bobCtx.newPage();
      await page.goto(url(`${BOB_PATH}attack.html`));
      await confirmAuthorizeIfAsked(page);
      assert.equal(await page.textContent('#attack'), "bob's page", 'bob opened his own server');
      assert.equal(
        await page.evaluate(() => (globalThis as unknown as { origin: string }).origin),
        new URL(stack.publicUrl).origin,
        "bob's own page keeps the site's origin: only visitors get the sandbox",
      );
      await page.close();
      // All of them, whatever their path: a script can send every cookie of bob's browser anywhere.
      const cookie = (await bobCtx.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
      assert.ok(cookie.includes('jupyterhub-hub-login='), cookie.replace(/=[^;]+/g, '=…'));
      for (const base of [stack.publicUrl, await s.hubTarget(alice, ALICE_SERVER)]) {
        const res = await fetch(`${base}${ALICE_PATH}`, {
          headers: { cookie },
          redirect: 'manual',
        });
        assert.ok(!(await res.text()).includes(ALICE_SECRET), base);
        assert.notEqual(res.status, 200, base);
      }
    });

    // A visitor gets bob's pages sandboxed (proxy/http/headers.ts, VISITOR_SANDBOX): an opaque origin, so the browser treats what they send as cross-site.
    const BLOCKED = /^(?:failed|blocked): /;

    it("is served to alice in a sandbox: the page's origin is opaque", async () => {
      assert.equal(
        await attack.evaluate(() => (globalThis as unknown as { origin: string }).origin),
        'null',
      );
    });

    it('cannot fetch her app with her cookies (with a Referer, without one, a POST)', async () => {
      const seen = await run('fetchApp');
      assert.ok(!seen.includes(ALICE_SECRET), seen);
      for (const one of seen.split(' | ')) assert.match(one, BLOCKED, seen);
    });

    it('cannot read her app in an iframe', async () => {
      const seen = await run('frameApp');
      assert.ok(!seen.includes(ALICE_SECRET), seen);
      assert.match(seen, BLOCKED);
    });

    it('cannot post a form to her app', async () => {
      const seen = await run('formPost');
      assert.ok(!seen.includes(ALICE_SECRET), seen);
      assert.match(seen, BLOCKED);
    });

    it('gets no handle on a window of her app that it opens', async () => {
      const seen = await run('openWindow');
      assert.ok(!seen.includes(ALICE_SECRET), seen);
      assert.match(seen, /^no handle/);
    });

    it('cannot open a WebSocket to her app', async () => {
      assert.equal(await run('webSocket'), 'refused');
    });
  });
});
