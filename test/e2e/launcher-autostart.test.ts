import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser } from 'playwright-core';
import { requirePrerequisite } from '../helpers/prereq.js';
import { chromiumInstalled, launchChromium } from './browser.js';
import {
  loginAs,
  row,
  rowInState,
  waitForLauncher,
  type LauncherSession,
} from './launcher-page.js';
import { startLauncherStack, type LauncherStack } from './launcher-stack.js';

describe('autostart in a real browser (config autostart_app)', function () {
  this.timeout(90000);
  let browser: Browser;
  let stack: LauncherStack;
  let alice: LauncherSession;

  before(async function () {
    requirePrerequisite(
      this,
      chromiumInstalled(),
      'needs /usr/bin/chromium (Debian package chromium)',
    );
    browser = await launchChromium();
    stack = await startLauncherStack({ autostart_app: 'hello', admin_access: false });
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('starts the autostart app after login and goes straight into it', async () => {
    alice = await loginAs(browser, stack, 'alice');
    await alice.page.locator('#app', { hasText: 'e2e app' }).waitFor({ timeout: 30000 });
    assert.equal(new URL(alice.page.url()).pathname, '/apps/alice/hello/');
    assert.equal(await stack.state('alice', 'hello'), 'running');
  });

  it('shows the launcher, not the app, when the user comes back to it in the same session', async () => {
    await alice.page.goto(stack.launcher);
    await waitForLauncher(alice.page, 'alice');
    await sleep(1500);
    assert.equal(alice.page.url(), stack.launcher);
    assert.deepEqual(alice.errors, []);
  });

  it("lets an admin without admin_access stop but not open other users' servers", async () => {
    const ada = await loginAs(browser, stack, 'ada');
    await ada.page.locator('#app', { hasText: 'e2e app' }).waitFor({ timeout: 30000 });
    await ada.page.goto(`${stack.launcher}#admin`);
    await rowInState(ada.page, '#admin-table', 'alice', 'hello', 'Running');
    const aliceRow = row(ada.page, '#admin-table', 'alice', 'hello');
    assert.equal(await aliceRow.getByRole('link', { name: /^Open/ }).count(), 0);
    await aliceRow.getByRole('button', { name: 'Stop alice/hello', exact: true }).waitFor();
    await row(ada.page, '#admin-table', 'ada', 'hello')
      .getByRole('link', { name: 'Open ada/hello', exact: true })
      .waitFor();
    assert.deepEqual(ada.errors, []);
  });
});
