import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Frame, Page } from 'playwright-core';
import { waitFor } from '../helpers/wait.js';
import { TEST_USERS } from '../system/harness.js';
import { apiFromPage, newContext } from './browser.js';
import { loginToHubapps } from './hub-login.js';
import { APPS_DOMAIN, HubStack } from './stack.js';
import { useHubStack } from './hub-suite.js';

const { alice, bob } = TEST_USERS;
/** The two other sites, each its own registrable domain (and not the apps domain's), resolved to loopback by Chromium. */
const LMS_HOST = 'lms.e2e-embed.localhost';
const EVIL_HOST = 'evil.e2e-other.localhost';

/**
 * Embedding servers in another site's pages, with everything real (JupyterHub, CHP,
 * hubapps with the sudo launcher, test Unix accounts, headless Chromium): a tiny loopback
 * server plays the learning platform (allowed in app_embedding.allow) and a site nobody
 * allowed; both answer /frame?src=URL with a page that frames URL.
 */
describe('e2e: embedding a server in an allowed site (real sudo, CHP, JupyterHub, Chromium)', function () {
  this.timeout(60_000);
  const config: Record<string, unknown> = {};
  const stack = new HubStack({ hostLayout: true, config });
  let sites: http.Server;
  let browser: Browser;
  let aliceCtx: BrowserContext;
  let launcher: Page;
  const site = (host: string) => `http://${host}:${(sites.address() as AddressInfo).port}`;
  const framing = (host: string, src: string) =>
    `${site(host)}/frame?src=${encodeURIComponent(src)}`;
  const server = (user: string) => `http://echo--${user}.${APPS_DOMAIN}:${stack.appsChp!.port}/`;

  before(async () => {
    sites = http.createServer((req, res) => {
      const src = new URL(req.url ?? '/', 'http://x').searchParams.get('src') ?? '';
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(
        `<!doctype html><title>course</title><h1>Course page on ${req.headers.host}</h1><iframe id="app" src="${src.replace(/"/g, '&quot;')}" width="800" height="500"></iframe>`,
      );
    });
    await new Promise<void>((resolve) => sites.listen(0, '127.0.0.1', resolve));
    config.app_embedding = { allow: [site(LMS_HOST)] };
  });
  after(() => sites?.close());

  useHubStack(stack, { setUpMs: 150_000, ready: async (b) => void (browser = b) });

  const login = (user: string) =>
    loginToHubapps(browser, stack.publicUrl, stack.password, user, { appsDomain: 'localhost' });

  async function startEcho(page: Page, user: string): Promise<void> {
    const started = await apiFromPage(page, 'POST', `/users/${user}/servers/echo`, { app: 'echo' });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    await waitFor(
      async () =>
        (await apiFromPage(page, 'GET', `/users/${user}/servers/echo`)).body.state === 'running',
      { timeout: 20_000, what: `${user}'s server to run` },
    );
  }

  /** Open `url` in a fresh tab of alice's browser; resolves with the tab and its #app frame once loaded. */
  async function openFramed(url: string): Promise<{ page: Page; frame: Frame }> {
    const page = await aliceCtx.newPage();
    await page.goto(url, { waitUntil: 'load' });
    const frame = await (await page.$('#app'))!.contentFrame();
    assert.ok(frame, 'the page has no frame');
    await frame.waitForLoadState('load');
    return { page, frame };
  }

  /** What Chromium shows in a frame it refused to render: its own error page, not the answer. */
  async function blocked(frame: Frame): Promise<boolean> {
    const text = await frame.content();
    return text.includes('ERR_BLOCKED_BY_RESPONSE') && !text.includes('echo app of');
  }

  it("shows alice's server inside the allowed site after she signs in once through the popup", async () => {
    ({ context: aliceCtx, page: launcher } = await login(alice));
    await startEcho(launcher, alice);
    const { frame } = await openFramed(framing(LMS_HOST, server(alice)));
    await frame.waitForSelector('#sign-in');
    assert.equal(await frame.$('#who'), null, 'the app showed before any sign-in');
    const [popup] = await Promise.all([aliceCtx.waitForEvent('page'), frame.click('#sign-in')]);
    await frame.waitForSelector('#who', { timeout: 15_000 });
    assert.equal(await frame.textContent('#who'), `echo app of ${alice}`);
    assert.equal(await frame.textContent('#visitor'), alice);
    await waitFor(() => popup.isClosed(), { timeout: 5_000, what: 'the sign-in popup to close' });
    const id = stack.server(alice, 'echo')!.id;
    const cookies = (await aliceCtx.cookies()).filter((c) => c.name === `__Host-hubapps-${id}`);
    assert.deepEqual(
      cookies.map((c) => [c.sameSite, c.secure, c.httpOnly, c.path, partitionKey(c)]),
      [['None', true, true, '/', 'http://e2e-embed.localhost']],
      'the only access cookie is the one partitioned to the allowed site',
    );
  });

  it('keeps the partitioned cookie out of a browser tab of the server itself', async () => {
    const id = stack.server(alice, 'echo')!.id;
    const tab = await aliceCtx.newPage();
    const first = tab.waitForRequest((r) => r.url() === server(alice));
    await tab.goto(server(alice));
    const sent = (await (await first).allHeaders()).cookie ?? '';
    assert.ok(!sent.includes(`__Host-hubapps-${id}=`), sent);
    // Alice still gets in there, through the usual top-level authorize.
    assert.equal(await tab.textContent('#who'), `echo app of ${alice}`);
    await tab.close();
  });

  it('signs in a browser with no session at all through the hub login form in the popup', async () => {
    const fresh = await newContext(browser, { appsDomain: 'localhost' });
    try {
      const page = await fresh.newPage();
      await page.goto(framing(LMS_HOST, server(alice)), { waitUntil: 'load' });
      const frame = (await (await page.$('#app'))!.contentFrame())!;
      await frame.waitForSelector('#sign-in');
      const [popup] = await Promise.all([fresh.waitForEvent('page'), frame.click('#sign-in')]);
      await popup.waitForSelector('#username_input');
      await popup.fill('#username_input', alice);
      await popup.fill('#password_input', stack.password);
      await popup.click('#login_submit');
      await frame.waitForSelector('#who', { timeout: 20_000 });
      assert.equal(await frame.textContent('#who'), `echo app of ${alice}`);
    } finally {
      await fresh.close();
    }
  });

  it('keeps the framed app working: its WebSocket gets through with the partitioned cookie', async () => {
    const { frame } = await openFramed(framing(LMS_HOST, server(alice)));
    await frame.waitForSelector('#who');
    const answer = await frame.evaluate(
      (path) =>
        new Promise<string>((resolve) => {
          const g = globalThis as unknown as { location: { host: string } };
          const ws = new WebSocket(`ws://${g.location.host}${path}`);
          const timer = setTimeout(() => resolve('timeout'), 5000);
          ws.onopen = () => ws.send('hi');
          ws.onmessage = (ev) => {
            clearTimeout(timer);
            resolve(String(ev.data));
            ws.close();
          };
          ws.onerror = () => resolve('error');
        }),
      '/socket',
    );
    assert.equal(answer, 'echo:hi');
  });

  it('lets a site nobody allowed frame nothing: Chromium refuses to render the app and its sign-in page', async () => {
    const { frame } = await openFramed(framing(EVIL_HOST, server(alice)));
    assert.ok(await blocked(frame), await frame.content().then((t) => t.slice(0, 300)));
    // The blocked answer may still leave its grant cookie in that site's partition: no code is ever bound to it.
    const id = stack.server(alice, 'echo')!.id;
    const access = (await aliceCtx.cookies())
      .filter((c) => c.name === `__Host-hubapps-${id}`)
      .map(partitionKey);
    assert.ok(!access.includes('http://e2e-other.localhost'), 'an access cookie for that site');
  });

  it("hands the popup's access code only to a page of the server's origin, never to the site that opened it", async () => {
    const page = await aliceCtx.newPage();
    await page.goto(`${site(EVIL_HOST)}/frame?src=about:blank`);
    const authorize = `${stack.publicUrl}/services/hubapps/authorize?user=${alice}&server=echo&binding=${'b'.repeat(43)}&embed=1`;
    // The hand-over page did run: it posted the code, to the server's origin, which the opener is not.
    const [popup, received] = await Promise.all([
      aliceCtx.waitForEvent('page'),
      page.evaluate(
        (url) =>
          new Promise<string>((resolve) => {
            const w = globalThis as unknown as {
              addEventListener(t: string, f: (e: { data: unknown }) => void): void;
              open(u: string, n: string, f: string): unknown;
            };
            w.addEventListener('message', (e) => resolve(JSON.stringify(e.data)));
            w.open(url, 'x', 'popup');
            setTimeout(() => resolve('nothing'), 4000);
          }),
        authorize,
      ),
    ]);
    assert.equal(received, 'nothing', 'the opener on another site received the code');
    assert.ok(popup.isClosed() || /Signed in/.test(await popup.content()));
  });

  it("gives alice nothing of bob's server framed in the allowed site: the popup says it is not hers", async () => {
    const { page: bobPage } = await login(bob);
    await startEcho(bobPage, bob);
    const { frame } = await openFramed(framing(LMS_HOST, server(bob)));
    await frame.waitForSelector('#sign-in');
    const [popup] = await Promise.all([aliceCtx.waitForEvent('page'), frame.click('#sign-in')]);
    await popup.waitForLoadState('load');
    assert.match((await popup.textContent('h1')) ?? '', /Not your server/);
    await popup.close();
    assert.equal(await frame.$('#who'), null);
  });

  it('never lets the allowed site frame the launcher', async () => {
    const { frame } = await openFramed(framing(LMS_HOST, `${stack.publicUrl}/services/hubapps/`));
    const text = await frame.content();
    assert.ok(text.includes('ERR_BLOCKED_BY_RESPONSE'), text.slice(0, 300));
    assert.ok(!text.includes('id="who"'));
  });
});

function partitionKey(cookie: object): string | undefined {
  return (cookie as { partitionKey?: string }).partitionKey;
}
