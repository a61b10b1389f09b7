/**
 * Cross-user containment in a real browser: bob publishes an attack page with his
 * static-file app and alice, logged in to hubapps with her echo server running, meets it.
 * First the ways bob could bring his page into her browser (a link with his token, a link
 * with an access code he was given); then, as if his page ran in her browser anyway (an
 * admin with admin_access who opens his server is in exactly that place), everything the
 * page tries against her app, the launcher and the API. Each test names its defence in
 * docs/security.md.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { waitFor } from '../helpers/wait.js';
import { TEST_USERS, runOk } from '../system/harness.js';
import { apiFromPage } from './browser.js';
import { loginToHubapps } from './hub-login.js';
import { HubStack } from './stack.js';
import { useHubStack } from './hub-suite.js';

const { alice, bob } = TEST_USERS;
const ALICE_ECHO = `/apps/${alice}/echo/`;
const BOB_WWW = `/apps/${bob}/www/`;
const ATTACK = `${BOB_WWW}attack.html`;
/** What alice's app shows; none of it may reach bob's page. */
const ALICE_SECRET = `echo app of ${alice}`;

/**
 * bob's page: each function is one attack, run in the page as its own script would, and
 * resolves with whatever the attacker got to see.
 */
const ATTACK_HTML = `<!doctype html><title>bob's page</title><h1 id="attack">bob's page</h1><script>
const wait = (ms) => new Promise((r) => setTimeout(r, ms));
async function frame(src) {
  const f = document.createElement('iframe');
  f.src = src;
  document.body.appendChild(f);
  await new Promise((r) => { f.onload = r; setTimeout(r, 4000); });
  await wait(1500);
  try { return 'read: ' + f.contentDocument.body.innerText; } catch (e) { return 'blocked: ' + e.message; }
}
async function get(url, init) {
  try { const r = await fetch(url, Object.assign({ credentials: 'include' }, init)); return r.status + ' ' + (await r.text()); } catch (e) { return 'failed: ' + e.message; }
}
window.attack = {
  frameApp: () => frame('${ALICE_ECHO}'),
  frameLauncher: () => frame('/services/hubapps/'),
  fetchApp: async () => [await get('${ALICE_ECHO}'), await get('${ALICE_ECHO}', { referrerPolicy: 'no-referrer' })].join(' | '),
  fetchApi: async () => [await get('/services/hubapps/api/user'), await get('/services/hubapps/api/users/${alice}/tokens', { referrerPolicy: 'no-referrer' })].join(' | '),
  createToken: () => get('/services/hubapps/api/users/${alice}/tokens', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"note":"bob was here"}' }),
  formPost: async () => {
    const name = 'sink' + Math.random();
    const f = document.createElement('iframe'); f.name = name; document.body.appendChild(f);
    const form = document.createElement('form'); form.method = 'POST'; form.action = '${ALICE_ECHO}form'; form.target = name;
    form.innerHTML = '<input name="x" value="1">'; document.body.appendChild(form);
    await new Promise((r) => { f.onload = r; form.submit(); setTimeout(r, 4000); });
    try { return 'read: ' + f.contentDocument.body.innerText; } catch (e) { return 'blocked: ' + e.message; }
  },
  openWindow: async (url) => {
    const w = window.open(url);
    await wait(3000);
    try { return 'read: ' + w.document.body.innerText; } catch (e) { return 'no handle: closed=' + w.closed; }
  },
};
// Opened as attack.html#ws, the page goes straight for a WebSocket to alice's running app.
if (location.hash === '#ws') {
  const ws = new WebSocket('ws://' + location.host + '${ALICE_ECHO}ws');
  ws.onopen = () => ws.send('whoami');
  ws.onmessage = (m) => { document.title = 'ws: ' + m.data; };
}
</script>`;

describe("e2e: a page of bob's app cannot act as alice in her browser (shared origin, path layout)", function () {
  this.timeout(90_000);
  const stack = new HubStack();
  let browser: Browser;
  let aliceCtx: BrowserContext;
  let alicePage: Page;
  let bobCtx: BrowserContext;
  let bobPage: Page;
  let bobToken = '';
  let bobGrantUrl = '';
  const url = (path: string) => `${stack.publicUrl}${path}`;
  const cookieNames = async (context: BrowserContext) =>
    (await context.cookies()).map((c) => c.name);
  const bobCookie = () => `hubapps-proxy-${stack.server(bob, 'www')!.id}`;

  async function startServer(page: Page, user: string, name: string): Promise<void> {
    const started = await apiFromPage(page, 'POST', `/users/${user}/servers/${name}`, {
      app: name,
    });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    await waitFor(
      async () =>
        (await apiFromPage(page, 'GET', `/users/${user}/servers/${name}`)).body.state === 'running',
      { timeout: 20_000, what: `${user}'s ${name} server to run` },
    );
  }

  /** Run one of bob's attacks in a page showing his attack page. */
  const run = (page: Page, attack: string, arg?: string) =>
    page.evaluate(({ attack, arg }) => (globalThis as any).attack[attack](arg) as Promise<string>, {
      attack,
      arg,
    });

  useHubStack(stack, {
    setUpMs: 180_000,
    ready: async (b) => {
      browser = b;
      // bob publishes his page in ~/www, as himself.
      const www = join('/home', bob, 'www');
      await mkdir(www, { recursive: true });
      await writeFile(join(www, 'attack.html'), ATTACK_HTML);
      await runOk('chown', ['-R', `${bob}:`, www]);
      ({ context: aliceCtx, page: alicePage } = await loginToHubapps(
        browser,
        stack.publicUrl,
        stack.password,
        alice,
      ));
      await startServer(alicePage, alice, 'echo');
      await alicePage.goto(url(ALICE_ECHO));
      assert.equal(await alicePage.textContent('#who'), ALICE_SECRET);
      ({ context: bobCtx, page: bobPage } = await loginToHubapps(
        browser,
        stack.publicUrl,
        stack.password,
        bob,
      ));
      await startServer(bobPage, bob, 'www');
      const made = await apiFromPage(bobPage, 'POST', `/users/${bob}/tokens`, { note: 'bait' });
      assert.equal(made.status, 201);
      bobToken = made.body.token as string;
      // An access code minted in bob's browser for his own server, taken before his browser uses it: the
      // context's request API shares bob's cookie jar, so the code is bound to his browser's grant cookie.
      const toAuthorize = await bobPage.request.get(url(ATTACK), {
        maxRedirects: 0,
        headers: { accept: 'text/html' },
      });
      assert.equal(toAuthorize.status(), 302);
      const granted = await bobPage.request.get(toAuthorize.headers().location!, {
        maxRedirects: 0,
        headers: { accept: 'text/html' },
      });
      assert.equal(granted.status(), 302, await granted.text());
      bobGrantUrl = url(granted.headers().location!);
      assert.match(bobGrantUrl, /_hubapps\/grant\?code=/);
    },
  });

  it("does not log alice's browser in to bob's app through a link with his token (?token=)", async () => {
    const page = await aliceCtx.newPage();
    const res = await page.goto(url(`${ATTACK}?token=${bobToken}`));
    assert.equal(res!.status(), 403);
    assert.match((await page.textContent('body'))!, new RegExp(`this server belongs to ${bob}`));
    assert.equal(await page.$('#attack'), null, "bob's page ran in alice's browser");
    assert.ok(
      !(await cookieNames(aliceCtx)).includes(bobCookie()),
      "alice's browser holds a cookie for bob's server",
    );
    await page.close();
  });

  it("does not log alice's browser in to bob's app through an access code minted in his browser", async () => {
    const page = await aliceCtx.newPage();
    const res = await page.goto(bobGrantUrl);
    assert.equal(res!.status(), 403);
    assert.match((await page.textContent('body'))!, /made for another browser/);
    assert.equal(await page.$('#attack'), null);
    assert.ok(!(await cookieNames(aliceCtx)).includes(bobCookie()));
    await page.close();
  });

  it("opens no WebSocket to alice's app: bob's page with its WebSocket attack cannot be brought into her browser by a link", async () => {
    const page = await aliceCtx.newPage();
    const sockets: string[] = [];
    page.on('websocket', (ws) => sockets.push(ws.url()));
    for (const link of [url(`${ATTACK}?token=${bobToken}#ws`), `${bobGrantUrl}#ws`]) {
      await page.goto(link);
      await sleep(1500);
      assert.equal(await page.$('#attack'), null, `bob's page ran from ${link}`);
    }
    assert.deepEqual(sockets, [], "a WebSocket was opened from bob's page");
    await page.close();
  });

  it('still lets bob in with his own token in the Authorization header (scripted access)', async () => {
    const res = await fetch(url(ATTACK), { headers: { authorization: `token ${bobToken}` } });
    assert.equal(res.status, 200);
    assert.match(await res.text(), /bob's page/);
  });

  describe("with bob's page running in alice's browser", () => {
    let attackPage: Page;

    before(async () => {
      // The place the defences below must hold in: bob's page on the shared origin, in the browser where alice is logged in.
      await bobPage.goto(url(ATTACK));
      const own = (await bobCtx.cookies()).find((c) => c.name === bobCookie());
      assert.ok(own, 'bob opened his own server');
      await aliceCtx.addCookies([own]);
      attackPage = await aliceCtx.newPage();
      await attackPage.goto(url(ATTACK));
      assert.equal(await attackPage.textContent('#attack'), "bob's page");
    });

    it('cannot read her app in an iframe', async () => {
      const seen = await run(attackPage, 'frameApp');
      assert.ok(!seen.includes(ALICE_SECRET), seen);
      assert.match(seen, /refused|blocked/);
    });

    it('cannot read the launcher in an iframe', async () => {
      const seen = await run(attackPage, 'frameLauncher');
      assert.ok(!seen.includes(alice), seen);
    });

    it('cannot fetch her app with her cookies, with or without a Referer', async () => {
      const seen = await run(attackPage, 'fetchApp');
      assert.ok(!seen.includes(ALICE_SECRET), seen);
      assert.match(seen, /^403 .* \| 403 /);
    });

    it('cannot call the hubapps API with her launcher cookie', async () => {
      const seen = await run(attackPage, 'fetchApi');
      assert.match(seen, /^403 .* \| 403 /);
      assert.ok(!seen.includes('xsrf'), seen);
    });

    it('cannot create an API token for her with her launcher cookie', async () => {
      const seen = await run(attackPage, 'createToken');
      assert.match(seen, /^403 /);
      const res = await fetch(url(`/services/hubapps/api/users/${alice}/tokens`), {
        headers: { authorization: `token ${stack.adminToken}` },
      });
      const { tokens } = (await res.json()) as { tokens: { note: string }[] };
      assert.ok(!tokens.some((t) => t.note === 'bob was here'), 'a token was made for alice');
    });

    it('cannot post a form to her app', async () => {
      const seen = await run(attackPage, 'formPost');
      assert.ok(!seen.includes(ALICE_SECRET), seen);
      assert.match(seen, /refused/);
    });

    it('gets no handle on a window of her app or of the launcher that it opens', async () => {
      for (const target of [ALICE_ECHO, '/services/hubapps/']) {
        const seen = await run(attackPage, 'openWindow', target);
        assert.match(seen, /^no handle/, `${target}: ${seen}`);
      }
    });
  });

  it("lets nobody else into alice's app after her page's WebSockets to a vanished kernel were refused (the wire)", async () => {
    const anonymous = await browser.newContext();
    const outcomes: string[] = [];
    try {
      const bobView = await bobCtx.newPage();
      const anonView = await anonymous.newPage();
      for (let round = 0; round < 6; round++) {
        // alice's own page reconnects to a kernel the app no longer has: the app answers 404 and keeps its connection open.
        const socket = await alicePage.evaluate(
          (path) =>
            new Promise<string>((resolve) => {
              const ws = new WebSocket(`ws://${(globalThis as any).location.host}${path}`);
              ws.onopen = () => resolve('open');
              ws.onerror = () => resolve('refused');
            }),
          `${ALICE_ECHO}api/kernels/gone/${round}/channels`,
        );
        const asBob = await bobView.goto(url(`${ALICE_ECHO}round-${round}`));
        const bobSaw = (await bobView.textContent('body')) ?? '';
        await anonView.goto(url(`${ALICE_ECHO}round-${round}`));
        const nobodySaw = (await anonView.textContent('body')) ?? '';
        outcomes.push(
          `${socket} bob:${asBob!.status()}${bobSaw.includes(ALICE_SECRET) ? '+secret' : ''} anonymous:${nobodySaw.includes(ALICE_SECRET) ? 'secret' : 'out'}`,
        );
      }
    } finally {
      await anonymous.close();
    }
    assert.deepEqual(outcomes, Array(6).fill('refused bob:403 anonymous:out'));
    assert.equal(
      await alicePage.evaluate(() =>
        fetch((globalThis as any).location.href).then((r: Response) => r.status),
      ),
      200,
      'alice still reaches her own app',
    );
  });

  it("never starts alice's server from a link on bob's page: the launcher asks for a click", async () => {
    const page = await aliceCtx.newPage();
    await page.goto(url(ATTACK));
    // bob's page follows a link of its own making (in the page, where document exists).
    await page.evaluate(
      `(() => { const a = document.createElement('a'); a.href = '/apps/${alice}/www/'; a.textContent = 'free cake'; document.body.appendChild(a); a.click(); })()`,
    );
    await page
      .locator('#visit', { hasText: 'Not running — start it?' })
      .waitFor({ timeout: 15_000 });
    await sleep(2000);
    assert.equal(stack.server(alice, 'www'), undefined, "bob's link started alice's www server");
    await page.close();
  });
});
