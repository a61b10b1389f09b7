import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { waitFor } from '../helpers/wait.js';
import { TEST_USERS } from '../system/harness.js';
import { hubLogin, newContext } from './browser.js';
import { waitForLauncher, waitUntilReady } from './launcher-page.js';
import { HubStack } from './stack.js';
import { useHubStack } from './hub-suite.js';

const { alice } = TEST_USERS;
/** The service's reconcile_interval in HubStack, in seconds. */
const RECONCILE_S = 1;
/** JupyterHub's route check in this test (the setting docs/install.md names); 300 s by default. */
const HUB_CHECK_S = 5;

describe('e2e: configurable-http-proxy killed and restarted (SIGKILL, empty routing table) behind a real JupyterHub', function () {
  this.timeout(120_000);
  const stack = new HubStack({
    chpDefaultTarget: true,
    hubConfig: `c.JupyterHub.last_activity_interval = ${HUB_CHECK_S}`,
  });
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const url = (path: string) => `${stack.publicUrl}${path}`;
  const answers = async (path: string) => {
    const res = await fetch(url(path), { redirect: 'manual', signal: AbortSignal.timeout(2000) });
    await res.body?.cancel();
    return res.status === 200;
  };

  useHubStack(stack, {
    setUpMs: 180_000,
    ready: async (b) => {
      browser = b;
      context = await newContext(browser);
      page = await context.newPage();
      await hubLogin(page, stack.publicUrl, alice, stack.password);
      await waitForLauncher(page, alice);
      await page.getByRole('button', { name: 'Start Echo', exact: true }).click();
      await waitUntilReady(page);
      await page.locator('#progress-open').click();
      await page.locator('#who', { hasText: `echo app of ${alice}` }).waitFor();
    },
  });

  it('brings back the hub login at once (CHP --default-target at the hub), and the launcher and a running app within a reconcile interval', async () => {
    // While JupyterHub owns the service route, hubapps leaves it alone.
    assert.equal((await stack.chpRoute('/services/hubapps'))?.jupyterhub, true);
    // The hub's own route check (every HUB_CHECK_S) could land before hubapps' repair and put its
    // route back first, leaving nothing of hubapps' to check; a hub frozen across the crash (as a
    // hub restarting at the same time is) makes the repair hubapps' alone.
    const hubPid = stack.hub!.pid;
    process.kill(hubPid, 'SIGSTOP');
    let serviceRouteMs: number;
    const killedAt = Date.now();
    let restartedAt: number;
    try {
      await stack.killAndRestartChp();
      restartedAt = Date.now();
      assert.equal(
        await stack.chpRoute('/services/hubapps'),
        undefined,
        'the new CHP starts with an empty table',
      );
      await waitFor(async () => (await stack.chpRoute('/services/hubapps')) !== undefined, {
        timeout: 30_000,
        interval: 50,
        what: 'a service route in the new CHP',
      });
      serviceRouteMs = Date.now() - restartedAt;
      const route = await stack.chpRoute('/services/hubapps');
      assert.equal(route?.hubapps, true, 'hubapps filled in the service route');
      assert.equal(
        route?.jupyterhub,
        undefined,
        "hubapps' stand-in carries no JupyterHub tag, so the hub neither deletes nor keeps it as its own",
      );
    } finally {
      process.kill(hubPid, 'SIGCONT');
    }
    const resumedAt = Date.now();
    const since = async (what: string, check: () => Promise<boolean>) => {
      await waitFor(() => check().catch(() => false), { timeout: 30_000, interval: 100, what });
      return Date.now() - resumedAt;
    };
    const [login, launcher, app] = await Promise.all([
      since('the hub login page through CHP', () => answers('/hub/login')),
      since('the launcher through CHP', () => answers('/services/hubapps/api/health')),
      since("alice's app through CHP", async () => {
        const res = await page.goto(url(`/apps/${alice}/echo/`));
        return (
          res?.status() === 200 &&
          (await page.locator('#who').textContent()) === `echo app of ${alice}`
        );
      }),
    ]);
    process.stdout.write(
      `      CHP restart (kill -9 took ${restartedAt - killedAt} ms to a listening CHP): service route back after ${serviceRouteMs} ms (reconcile_interval ${RECONCILE_S} s); once the hub resumed: hub login after ${login} ms, launcher after ${launcher} ms, alice's app after ${app} ms\n`,
    );
    await page.goto(url('/services/hubapps/'));
    await waitForLauncher(page, alice);
  });

  it("hands the service route back to JupyterHub at the hub's next route check, and never takes it again", async () => {
    await waitFor(async () => (await stack.chpRoute('/services/hubapps'))?.jupyterhub === true, {
      timeout: (HUB_CHECK_S + 15) * 1000,
      interval: 200,
      what: 'JupyterHub to put its own service route back',
    });
    // Only what the service logs from here on: while CHP was down, earlier passes failed to reach it, as they should.
    const mark = stack.service!.output().slice(-300);
    await sleep(5 * RECONCILE_S * 1000);
    const route = await stack.chpRoute('/services/hubapps');
    assert.equal(route?.jupyterhub, true);
    assert.equal(route?.hubapps, undefined);
    const output = stack.service!.output();
    const since = output.lastIndexOf(mark);
    assert.doesNotMatch(
      since < 0 ? output : output.slice(since + mark.length),
      /route change failed|chp_route_foreign/,
    );
    assert.ok(await answers('/services/hubapps/api/health'));
  });
});
