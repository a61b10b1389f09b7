import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Cookie, Page } from 'playwright-core';
import { waitFor } from '../helpers/wait.js';
import { TEST_USERS } from '../system/harness.js';
import { apiFromPage } from './browser.js';
import { loginToHubapps } from './hub-login.js';
import { HubStack } from './stack.js';
import { useHubStack } from './hub-suite.js';

const { alice, bob } = TEST_USERS;
/** The registrable domain the hub and the apps share: Chromium takes the label before an unknown TLD as the site. */
const SITE = 'e2e.localhost';
const APPS = `apps.${SITE}`;
const SESSION = 'hubapps-session';

/**
 * Cookie fixation through a shared app, with everything real (JupyterHub, both CHPs,
 * hubapps with the sudo launcher, test Unix accounts, headless Chromium): the hub at
 * hub.e2e.localhost and the apps under apps.e2e.localhost are one site, which an admin
 * accepted with sharing_same_site. Bob shares his server with alice; his page, open in her browser,
 * tosses his own session cookie onto the parent domain with a longer path than hers, so
 * her browser sends bob's first to the launcher's API.
 */
describe('e2e: a shared app tossing a session cookie onto the domain it shares with the hub (real sudo, both CHPs, JupyterHub, Chromium)', function () {
  this.timeout(60_000);
  const stack = new HubStack({
    hostLayout: true,
    appsDomain: APPS,
    hubHost: `hub.${SITE}`,
    config: { sharing_same_site: true },
  });
  let browser: Browser;
  let aliceCtx: BrowserContext;
  let alicePage: Page;
  /** Bob's server, open in alice's browser: the attacker's foothold. */
  let attack: Page;
  let bobSession: Cookie;
  const launcher = () => `${stack.publicUrl}/services/hubapps/`;
  const server = (user: string, path = '/') =>
    `http://echo--${user}.${APPS}:${stack.appsChp!.port}${path}`;
  const sessions = async (context: BrowserContext) =>
    (await context.cookies()).filter((c) => c.name === SESSION);
  const login = (user: string) =>
    loginToHubapps(browser, stack.publicUrl, stack.password, user, { appsDomain: SITE });

  /** The launcher page loaded afresh: its header names the session's user, or its notice says why there is none. */
  async function reloadLauncher(): Promise<{ who: string; notice: string }> {
    await alicePage.goto(launcher());
    await waitFor(
      () => alicePage.evaluate(() => !(globalThis as any).document.body.matches('.loading')),
      { timeout: 10_000, what: 'the launcher page to finish loading' },
    );
    const notice = alicePage.locator('#notice');
    return {
      who: (await alicePage.textContent('#who')) ?? '',
      notice: (await notice.isVisible()) ? ((await notice.textContent()) ?? '') : '',
    };
  }

  useHubStack(stack, {
    setUpMs: 150_000,
    ready: async (b) => void (browser = b),
  });

  it("lets bob share his server with alice, whose browser then runs bob's page on a host of the hub's own site", async () => {
    const { context: bobCtx, page: bobPage } = await login(bob);
    const started = await apiFromPage(bobPage, 'POST', `/users/${bob}/servers/echo`, {
      app: 'echo',
    });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    await waitFor(
      async () =>
        (await apiFromPage(bobPage, 'GET', `/users/${bob}/servers/echo`)).body.state === 'running',
      { timeout: 20_000, what: "bob's server to run" },
    );
    const shared = await apiFromPage(bobPage, 'POST', `/users/${bob}/servers/echo/shares`, {
      user: alice,
    });
    assert.equal(shared.status, 201, JSON.stringify(shared.body));
    [bobSession] = await sessions(bobCtx);
    ({ context: aliceCtx, page: alicePage } = await login(alice));
    attack = await aliceCtx.newPage();
    await attack.goto(server(bob, '/toss'));
    assert.equal(await attack.textContent('#who'), `echo app of ${bob}`);
    assert.equal(await attack.textContent('#visitor'), alice);
  });

  it('refuses every launcher request of alice that carries the session cookie tossed by bob, and never answers as bob', async () => {
    const [own] = await sessions(aliceCtx);
    await attack.evaluate(({ cookie }) => ((globalThis as any).document.cookie = cookie), {
      cookie: `${SESSION}=${bobSession.value}; Domain=${SITE}; Path=/services/hubapps/api`,
    });
    assert.deepEqual(
      (await sessions(aliceCtx)).map((c) => [c.domain, c.path, c.value]).sort(),
      [
        [`.${SITE}`, '/services/hubapps/api', bobSession.value],
        [own!.domain, '/services/hubapps/', own!.value],
      ].sort(),
      "bob's cookie is not in alice's jar next to her own",
    );
    const asked = alicePage.waitForRequest((req) =>
      req.url().endsWith('/services/hubapps/api/user'),
    );
    const page = await reloadLauncher();
    const sent = ((await (await asked).allHeaders()).cookie ?? '')
      .split('; ')
      .filter((c) => c.startsWith(`${SESSION}=`))
      .map((c) => c.slice(SESSION.length + 1));
    assert.deepEqual(sent, [bobSession.value, own!.value], "bob's cookie did not go first");
    assert.equal(page.who, '', "alice's launcher acted for the user whose cookie went first");
    assert.match(page.notice, new RegExp(`2 ${SESSION} cookies, so another site set one`));
    for (const path of ['/user', `/users/${bob}/servers/echo`, `/users/${alice}/servers/echo`]) {
      const res = await apiFromPage(alicePage, 'GET', path);
      assert.equal(res.status, 400, `${path}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.code, 'bad_request', path);
    }
  });

  it('lets alice use the launcher as herself again once the tossed cookie is gone', async () => {
    await aliceCtx.clearCookies({ name: SESSION, domain: `.${SITE}` });
    assert.deepEqual(
      (await sessions(aliceCtx)).map((c) => c.domain),
      [`hub.${SITE}`],
    );
    assert.deepEqual(await reloadLauncher(), { who: alice, notice: '' });
    const me = await apiFromPage(alicePage, 'GET', '/user');
    assert.equal(me.status, 200, JSON.stringify(me.body));
    assert.equal(me.body.name, alice);
  });
});
