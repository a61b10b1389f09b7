import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser } from 'playwright-core';
import { requirePrerequisite } from '../helpers/prereq.js';
import { waitFor } from '../helpers/wait.js';
import { chromiumInstalled, launchChromium } from './browser.js';
import { loginAs, rowInState, waitForLauncher } from './launcher-page.js';
import { startLauncherStack, type LauncherStack } from './launcher-stack.js';

/**
 * Where the admin turned users' own ports off, the launcher does not invite anyone to open
 * ports: no ports row, no hint, under a running server (the service, CHP and Chromium real).
 */
describe("the launcher with users' own ports off (config user_ports.enabled: false)", function () {
  this.timeout(90000);
  let browser: Browser;
  let stack: LauncherStack;

  before(async function () {
    requirePrerequisite(
      this,
      chromiumInstalled(),
      'needs /usr/bin/chromium (Debian package chromium)',
    );
    browser = await launchChromium();
    stack = await startLauncherStack({ user_ports: { enabled: false } });
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('shows no ports and no hint under a running server, and stops asking once told', async () => {
    const { page, errors } = await loginAs(browser, stack, 'alice');
    const answers: unknown[] = [];
    page.on('response', (r) => {
      if (new URL(r.url()).pathname.endsWith('/servers/hello/ports'))
        void r.json().then((body: unknown) => answers.push(body));
    });
    await waitForLauncher(page, 'alice');
    assert.equal(
      (await stack.api('POST', '/users/alice/servers/hello', { app: 'hello' })).status,
      202,
    );
    await rowInState(page, '#mine', 'alice', 'hello', 'Running');
    await waitFor(() => answers.length > 0, {
      timeout: 15000,
      what: 'the page to ask for the ports of hello',
    });
    // Three more polls (2.5 s each): by then a row would have been drawn, and a page that kept asking would have asked again.
    await sleep(8000);
    assert.deepEqual(answers, [{ enabled: false, ports: [] }]);
    assert.equal(await page.locator('#mine tr.ports').count(), 0);
    assert.equal(await page.getByText('Programs you start in this server').count(), 0);
    assert.deepEqual(errors, []);
  });
});
