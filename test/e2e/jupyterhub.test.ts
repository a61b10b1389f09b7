import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import WebSocket from 'ws';
import { hashSecret } from '../../src/secret-hash.js';
import { waitFor } from '../helpers/wait.js';
import { TEST_GROUP, TEST_USERS, repoRoot } from '../system/harness.js';
import { apiFromPage, hubLogin, newContext, webSocketFromPage } from './browser.js';
import { DOC_VALUES, hubappsSnippet } from './hub-config.js';
import { loginToHubapps as hubappsLogin } from './hub-login.js';
import { HUB_ONLY_USER, HubStack } from './stack.js';
import { useHubStack } from './hub-suite.js';

const { alice, bob, mallory } = TEST_USERS;
const ALICE_ECHO = `/apps/${alice}/echo/`;
const BOB_ECHO = `/apps/${bob}/echo/`;

describe('e2e: login through a real JupyterHub and per-server access, in headless Chromium', function () {
  this.timeout(60_000);
  const stack = new HubStack();
  let browser: Browser;
  let aliceCtx: BrowserContext;
  let alicePage: Page;
  let bobPage: Page;
  /** The grant URL alice's browser went through when it first opened her server. */
  let usedGrantUrl = '';
  const url = (path: string) => `${stack.publicUrl}${path}`;
  const cookie = async (context: BrowserContext, name: string) =>
    (await context.cookies()).find((c) => c.name === name);
  const proxyCookieName = () => `hubapps-proxy-${stack.server(alice, 'echo')!.id}`;

  /** Log in on the hub's form; the hub sends the browser to the launcher, which logs it in to hubapps. */
  const loginToHubapps = (user: string) =>
    hubappsLogin(browser, stack.publicUrl, stack.password, user);

  async function startServer(page: Page, user: string): Promise<void> {
    const started = await apiFromPage(page, 'POST', `/users/${user}/servers/echo`, { app: 'echo' });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    await waitFor(
      async () =>
        (await apiFromPage(page, 'GET', `/users/${user}/servers/echo`)).body.state === 'running',
      {
        timeout: 20_000,
        what: `${user}'s echo server to run`,
      },
    );
  }

  useHubStack(stack, {
    setUpMs: 120_000,
    ready: async (b) => void (browser = b),
  });

  it('logs alice in on the hub and lands her on the launcher with a hubapps session (OAuth with state and PKCE)', async () => {
    ({ context: aliceCtx, page: alicePage } = await loginToHubapps(alice));
    const authorizeRequests: URL[] = [];
    aliceCtx.on('request', (r) => {
      const u = new URL(r.url());
      if (u.pathname === '/hub/api/oauth2/authorize') authorizeRequests.push(u);
    });
    const me = await apiFromPage(alicePage, 'GET', '/user');
    assert.equal(me.status, 200);
    assert.equal(me.body.name, alice);
    assert.equal(me.body.via, 'session');
    assert.equal(me.body.admin, false);
    const session = (await cookie(aliceCtx, 'hubapps-session'))!;
    assert.deepEqual(
      [session.path, session.httpOnly, session.sameSite],
      ['/services/hubapps/', true, 'Lax'],
    );

    // A second login shows what the browser sent to the hub.
    await alicePage.goto(url('/services/hubapps/login'));
    const sent = authorizeRequests.at(-1)!;
    assert.equal(sent.searchParams.get('client_id'), 'service-hubapps');
    assert.equal(sent.searchParams.get('redirect_uri'), url('/services/hubapps/oauth_callback'));
    assert.match(sent.searchParams.get('state') ?? '', /^[\w-]{40,}$/);
    assert.equal(sent.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(new URL(alicePage.url()).pathname, '/services/hubapps/');
  });

  it('starts a server from the launcher page and opens it: authorize, access code, proxy cookie, the app running as alice', async () => {
    await startServer(alicePage, alice);
    const grants: string[] = [];
    alicePage.on('request', (r) => {
      if (r.url().includes('/_hubapps/grant?code=')) grants.push(r.url());
    });
    await alicePage.goto(url(`${ALICE_ECHO}hello?x=1`));
    assert.equal(alicePage.url(), url(`${ALICE_ECHO}hello?x=1`));
    assert.equal(await alicePage.textContent('#who'), `echo app of ${alice}`);
    assert.equal(await alicePage.textContent('#url'), '/hello?x=1');
    assert.equal(grants.length, 1, 'the browser went through one access code');
    usedGrantUrl = grants[0]!;
    const proxyCookie = (await cookie(aliceCtx, proxyCookieName()))!;
    assert.deepEqual(
      [proxyCookie.path, proxyCookie.httpOnly, proxyCookie.sameSite],
      [ALICE_ECHO, true, 'Lax'],
    );
  });

  it("echoes over a WebSocket opened by the app's page", async () => {
    assert.equal(await webSocketFromPage(alicePage, `${ALICE_ECHO}ws`, 'ping'), 'echo:ping');
  });

  it("forwards alice's app activity to JupyterHub with the service's users:activity scope", async () => {
    const usedAt = Date.now();
    await alicePage.goto(url(`${ALICE_ECHO}activity`));
    await waitFor(
      async () => {
        const res = await fetch(`${stack.hub!.apiUrl}/users/${alice}`, {
          headers: { authorization: `token ${stack.observerToken}` },
        });
        const { last_activity } = (await res.json()) as { last_activity: string | null };
        return last_activity !== null && Date.parse(last_activity) >= usedAt;
      },
      {
        timeout: 10_000,
        interval: 250,
        what: "the hub's last_activity of alice to reach the app's use",
      },
    );
  });

  it('gives the service token users:activity and nothing more', async () => {
    const res = await fetch(`${stack.hub!.apiUrl}/user`, {
      headers: { authorization: `token ${stack.serviceToken}` },
    });
    assert.equal(res.status, 200);
    const { kind, name, scopes } = (await res.json()) as {
      kind: string;
      name: string;
      scopes: string[];
    };
    assert.deepEqual([kind, name], ['service', 'hubapps']);
    assert.deepEqual(
      scopes.sort(),
      ['read:users:activity', 'users:activity'],
      'users:activity implies reading activity, nothing else',
    );
  });

  it("refuses bob on alice's server: a page that says whose it is, no access code, no app", async () => {
    ({ page: bobPage } = await loginToHubapps(bob));
    const res = await bobPage.goto(url(ALICE_ECHO));
    assert.equal(res!.status(), 403);
    assert.equal(new URL(bobPage.url()).pathname, '/services/hubapps/authorize');
    assert.match(
      (await bobPage.textContent('body'))!,
      new RegExp(`this server belongs to ${alice}`),
    );
    assert.equal(await bobPage.$('#who'), null);
    assert.equal(await cookie(bobPage.context(), proxyCookieName()), undefined);
  });

  it("refuses a replayed access code, in alice's browser and in a fresh one", async () => {
    assert.ok(usedGrantUrl, 'the open test recorded the code');
    const fresh = await (await newContext(browser)).newPage();
    for (const page of [alicePage, fresh]) {
      const res = await page.goto(usedGrantUrl);
      assert.equal(res!.status(), 403);
      assert.match(
        (await page.textContent('body'))!,
        /access code invalid, expired or made for another browser/,
      );
    }
    assert.equal(await cookie(fresh.context(), proxyCookieName()), undefined);
    await fresh.context().close();
  });

  it('refuses a forged access code', async () => {
    const page = await (await newContext(browser)).newPage();
    const res = await page.goto(
      url(`${ALICE_ECHO}_hubapps/grant?code=${randomBytes(32).toString('base64url')}`),
    );
    assert.equal(res!.status(), 403);
    assert.equal(await page.$('#who'), null);
    await page.context().close();
  });

  it('sends a browser whose hubapps session expired back to log in, not into the app', async () => {
    const second = await loginToHubapps(alice);
    const session = (await cookie(second.context, 'hubapps-session'))!;
    await second.context.close();
    stack.sql(
      'UPDATE sessions SET expires_at = ? WHERE hash = ?',
      new Date(Date.now() - 1000).toISOString(),
      hashSecret(session.value),
    );
    const context = await newContext(browser);
    await context.addCookies([session]);
    const page = await context.newPage();
    await page.goto(url(ALICE_ECHO));
    assert.equal(new URL(page.url()).pathname, '/hub/login', `ended at ${page.url()}`);
    assert.equal(await page.$('#who'), null);
    await context.close();
  });

  it("refuses alice's tokens, JupyterHub's and hubapps', on bob's server and accepts them on hers", async () => {
    await startServer(bobPage, bob);
    const hubPage = await aliceCtx.newPage();
    await hubPage.goto(url('/hub/token'));
    const made = await hubPage.evaluate(async (user) => {
      const res = await fetch(`/hub/api/users/${user}/tokens`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ note: 'e2e', expires_in: 600 }),
      });
      return { status: res.status, body: (await res.json()) as { token?: string } };
    }, alice);
    await hubPage.close();
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const hubToken = made.body.token!;
    // The API answers cookie requests only from launcher pages, so back to the launcher first.
    await alicePage.goto(url('/services/hubapps/'));
    const created = await apiFromPage(alicePage, 'POST', `/users/${alice}/tokens`, { note: 'e2e' });
    assert.equal(created.status, 201);
    for (const token of [hubToken, created.body.token as string]) {
      const onBobs = await fetch(url(BOB_ECHO), { headers: { authorization: `token ${token}` } });
      assert.equal(onBobs.status, 403, `${token.slice(0, 3)}… opened bob's server`);
      assert.ok(!(await onBobs.text()).includes('echo app of'));
      const onHers = await fetch(url(ALICE_ECHO), { headers: { authorization: `token ${token}` } });
      assert.equal(onHers.status, 200);
      assert.match(await onHers.text(), new RegExp(`echo app of ${alice}`));
    }
  });

  it('refuses a JupyterHub token of alice whose scopes do not grant access to hubapps, at the API (naming the missing scope) and at her server', async () => {
    const hubPage = await aliceCtx.newPage();
    await hubPage.goto(url('/hub/token'));
    const made = await hubPage.evaluate(async (user) => {
      const body = JSON.stringify({
        note: 'e2e narrow',
        expires_in: 600,
        scopes: [`read:users:activity!user=${user}`],
      });
      const res = await fetch(`/hub/api/users/${user}/tokens`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      return { status: res.status, body: (await res.json()) as { token?: string } };
    }, alice);
    await hubPage.close();
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const narrow = made.body.token!;
    const hubSays = await fetch(`${stack.hub!.apiUrl}/user`, {
      headers: { authorization: `token ${narrow}` },
    });
    assert.equal(
      ((await hubSays.json()) as { name: string }).name,
      alice,
      'the hub knows whose token it is',
    );
    const api = await fetch(url('/services/hubapps/api/user'), {
      headers: { authorization: `token ${narrow}` },
    });
    const refusal = (await api.json()) as { status: number; message: string; code: string };
    assert.equal(api.status, 403);
    assert.equal(refusal.code, 'token_scope');
    assert.match(
      refusal.message,
      /needs the scope access:services!service=hubapps/,
      'the refusal names the scope to ask the hub for',
    );
    const onHers = await fetch(url(ALICE_ECHO), { headers: { authorization: `token ${narrow}` } });
    assert.notEqual(onHers.status, 200);
    assert.ok(!(await onHers.text()).includes('echo app of'));
  });

  for (const target of ['https://elsewhere.example/', '//elsewhere.example/']) {
    it(`keeps next=${target} on this host at login and at authorize`, async () => {
      await alicePage.goto(url(`/services/hubapps/login?next=${encodeURIComponent(target)}`));
      assert.equal(alicePage.url(), url('/services/hubapps/'));
      // As the proxy sends a browser to authorize: with the hash of a grant cookie this browser holds.
      const nonce = randomBytes(32).toString('base64url');
      const id = stack.server(alice, 'echo')!.id;
      await aliceCtx.addCookies([
        {
          name: `hubapps-grant-${id}`,
          value: nonce,
          url: url(`${ALICE_ECHO}_hubapps/grant`),
          httpOnly: true,
          sameSite: 'Lax',
        },
      ]);
      const binding = hashSecret(nonce);
      await alicePage.goto(
        url(
          `/services/hubapps/authorize?user=${alice}&server=echo&binding=${binding}&next=${encodeURIComponent(target)}`,
        ),
      );
      assert.equal(alicePage.url(), url(ALICE_ECHO));
      assert.equal(await alicePage.textContent('#who'), `echo app of ${alice}`);
    });
  }

  it("refuses a WebSocket from a foreign Origin before the upgrade, even with alice's proxy cookie", async () => {
    const { name, value } = (await cookie(aliceCtx, proxyCookieName()))!;
    const open = (origin: string) =>
      new Promise<string>((resolve) => {
        const ws = new WebSocket(url(`${ALICE_ECHO}ws`).replace(/^http/, 'ws'), {
          origin,
          headers: { cookie: `${name}=${value}` },
        });
        ws.once('unexpected-response', (_req, res) => {
          resolve(`refused ${res.statusCode}`);
          ws.terminate();
        });
        ws.once('open', () => ws.send('hi'));
        ws.once('message', (m) => {
          resolve(String(m));
          ws.close();
        });
        ws.once('error', (err) => resolve(`error ${err.message}`));
      });
    assert.equal(await open('https://evil.example'), 'refused 403');
    assert.equal(
      await open(stack.publicUrl),
      'echo:hi',
      'the same cookie from the right origin works',
    );
  });

  it(`shows ${mallory}, who is not in ${TEST_GROUP}, the "Not allowed" page at login and gives her no session`, async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await hubLogin(page, stack.publicUrl, mallory, stack.password);
    await page.waitForURL((u) => u.pathname === '/services/hubapps/oauth_callback', {
      timeout: 15_000,
    });
    const text = (await page.textContent('body'))!;
    assert.match(text, /Not allowed/);
    assert.match(text, new RegExp(`not a member of group ${TEST_GROUP}`));
    assert.equal(await cookie(context, 'hubapps-session'), undefined);
    await context.close();
  });

  it(`lets JupyterHub refuse ${HUB_ONLY_USER}, who lacks access:services!service=hubapps, at its authorize page`, async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    const refused = page.waitForResponse(
      (r) => new URL(r.url()).pathname === '/hub/api/oauth2/authorize',
    );
    await hubLogin(page, stack.publicUrl, HUB_ONLY_USER, stack.password);
    assert.equal((await refused).status(), 403);
    assert.equal(await cookie(context, 'hubapps-session'), undefined);
    await context.close();
  });

  it('keeps sessions and open servers working while JupyterHub is down, and explains why a new login fails', async () => {
    await stack.hub!.stop();
    await alicePage.goto(url('/services/hubapps/'));
    const me = await apiFromPage(alicePage, 'GET', '/user');
    assert.equal(me.body.name, alice);
    await alicePage.goto(url(ALICE_ECHO));
    assert.equal(await alicePage.textContent('#who'), `echo app of ${alice}`);
    const page = await (await newContext(browser)).newPage();
    const res = await page.goto(url('/services/hubapps/login'));
    assert.equal(res!.status(), 503);
    const text = (await page.textContent('body'))!;
    assert.match(text, /JupyterHub is not available/);
    assert.doesNotMatch(text, /\bat .*\.js:\d+|Traceback|Error:/);
    await page.context().close();
  });
});

describe('docs/jupyterhub.md', () => {
  it('shows the jupyterhub_config.py snippet the end-to-end test runs, with example values', () => {
    const doc = readFileSync(join(repoRoot(), 'docs', 'jupyterhub.md'), 'utf8');
    assert.ok(
      doc.includes(hubappsSnippet(DOC_VALUES)),
      'docs/jupyterhub.md does not contain hubappsSnippet(DOC_VALUES) verbatim',
    );
  });
});
