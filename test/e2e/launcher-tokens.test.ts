import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { requirePrerequisite } from '../helpers/prereq.js';
import { chromiumInstalled, launchChromium } from './browser.js';
import { loginAs, screenshot, waitForLauncher, type LauncherSession } from './launcher-page.js';
import { startLauncherStack, type LauncherStack } from './launcher-stack.js';

describe("launcher page: a user's own API tokens (Chromium, CHP, service in local mode)", function () {
  this.timeout(90000);
  let browser: Browser;
  let stack: LauncherStack;
  let alice: LauncherSession;
  let secret = '';
  const asToken = (token: string) =>
    fetch(`${stack.launcher}api/user`, { headers: { authorization: `token ${token}` } }).then(
      async (r) => ({ status: r.status, body: (await r.json()) as { name?: string } }),
    );

  before(async function () {
    requirePrerequisite(
      this,
      chromiumInstalled(),
      'needs /usr/bin/chromium (Debian package chromium)',
    );
    browser = await launchChromium();
    stack = await startLauncherStack();
    alice = await loginAs(browser, stack, 'alice');
    await waitForLauncher(alice.page, 'alice');
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
  });
  afterEach(() => assert.deepEqual(alice.errors, [], 'the page threw'));

  it('creates a token with a note and shows its secret once; the token acts as alice', async () => {
    const { page } = alice;
    await page.getByRole('link', { name: 'API tokens', exact: true }).click();
    await page.getByText('You have no tokens.').waitFor();
    await page.getByLabel('Note').fill('laptop');
    await page.getByRole('button', { name: 'Create token', exact: true }).click();
    await page.locator('#token-created').waitFor();
    secret = (await page.locator('#token-secret').textContent()) ?? '';
    assert.match(secret, /^\S{20,}$/);
    await page.locator('#tokens-table tr', { hasText: 'laptop' }).waitFor();
    await screenshot(page, 'tokens');
    const me = await asToken(secret);
    assert.deepEqual([me.status, me.body.name], [200, 'alice']);
  });

  it('lists the token with its note, first characters and last use, and never shows the secret again', async () => {
    const { page } = alice;
    await page.reload();
    await page.locator('#tokens-table tr', { hasText: 'laptop' }).waitFor();
    const row = page.locator('#tokens-table tbody tr', { hasText: 'laptop' });
    assert.equal(await page.locator('#token-created').isHidden(), true);
    assert.ok(!(await page.content()).includes(secret), 'the secret is on the page again');
    assert.ok(
      secret.startsWith(
        ((await row.locator('td[data-label="Starts with"]').textContent()) ?? '').replace('…', ''),
      ),
    );
    assert.notEqual(
      (await row.locator('td[data-label="Last used"]').textContent())?.trim(),
      'never',
      'the use through the API was not recorded',
    );
  });

  it('deletes the token after asking, after which it no longer works', async () => {
    const { page } = alice;
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Delete token laptop', exact: true }).click();
    await page.getByText('You have no tokens.').waitFor();
    assert.equal((await asToken(secret)).status, 401);
  });
});
