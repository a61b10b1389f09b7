import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser } from 'playwright-core';
import { requirePrerequisite } from '../helpers/prereq.js';
import { waitFor } from '../helpers/wait.js';
import { chromiumInstalled, launchChromium } from './browser.js';
import {
  closeDialog,
  loginAs,
  row,
  rowInState,
  screenshot,
  waitForLauncher,
  waitUntilReady,
  type LauncherSession,
} from './launcher-page.js';
import { startLauncherStack, type LauncherStack } from './launcher-stack.js';

describe('launcher page in a real browser (Chromium, CHP, service in local mode)', function () {
  this.timeout(90000);
  let browser: Browser;
  let stack: LauncherStack;
  let alice: LauncherSession;
  const sessions: LauncherSession[] = [];
  const session = async (user: string, opts: { next?: string; width?: number } = {}) => {
    const s = await loginAs(browser, stack, user, opts);
    sessions.push(s);
    return s;
  };

  before(async function () {
    requirePrerequisite(
      this,
      chromiumInstalled(),
      'needs /usr/bin/chromium (Debian package chromium)',
    );
    browser = await launchChromium();
    stack = await startLauncherStack();
    alice = await session('alice');
    await waitForLauncher(alice.page, 'alice');
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
  });
  afterEach(() => {
    for (const s of sessions) assert.deepEqual(s.errors, [], 'the page threw');
  });

  describe('logging in', () => {
    it('sends a browser without a session to the login page, which says to ask for a login link', async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(stack.launcher);
      await page.waitForURL(/\/services\/hubapps\/login\?next=/);
      await page.getByText('Ask your admin for a login link').waitFor();
      await context.close();
    });

    it('logs in with a single-use link and drops the secret from the address bar', async () => {
      const link = await stack.loginLink('carol');
      const first = await browser.newContext();
      const page = await first.newPage();
      await page.goto(link);
      await page.getByRole('button', { name: 'Log in' }).click();
      await waitForLauncher(page, 'carol');
      assert.equal(page.url(), stack.launcher);
      const second = await (await browser.newContext()).newPage();
      await second.goto(link);
      await second.getByRole('button', { name: 'Log in' }).click();
      await second.getByText('expired or was already used').waitFor();
      await first.close();
      await second.context().close();
    });
  });

  describe('alice starts, opens, stops and inspects her servers', () => {
    it('shows each catalog app as a card with its title, description and icon, grouped by category, hidden apps left out', async () => {
      const cards = alice.page.locator('#cards .card');
      assert.equal(await cards.count(), 3);
      const order = await alice.page.locator('#cards > *').evaluateAll((els) =>
        els.map((e) => {
          const el = e as unknown as {
            tagName: string;
            textContent: string;
            dataset: { app?: string };
          };
          return el.tagName === 'H3' ? `heading ${el.textContent}` : `card ${el.dataset.app}`;
        }),
      );
      assert.deepEqual(
        order,
        ['card hello', 'card slow', 'heading Troubleshooting', 'card broken'],
        'uncategorised cards first, then each category under its heading; no card for the hidden app',
      );
      const hello = alice.page.locator('.card[data-app="hello"]');
      await hello.getByText('A small web app that answers at once.').waitFor();
      const icon = hello.locator('img.icon');
      assert.match((await icon.getAttribute('src')) ?? '', /\/api\/apps\/hello\/icon$/);
      assert.ok(
        await icon.evaluate(
          (img) => (img as unknown as { complete: boolean; naturalWidth: number }).naturalWidth > 0,
        ),
        'the icon did not load',
      );
    });

    it('starts a server from a card and shows its live progress until it is ready', async () => {
      const { page } = alice;
      await page.getByRole('button', { name: 'Start Hello', exact: true }).click();
      await page.locator('#progress').waitFor();
      await waitUntilReady(page);
      assert.equal(await page.locator('#progress-state').textContent(), 'Hello is ready.');
      assert.equal(
        await page
          .locator('#progress-bar')
          .evaluate((b) => (b as unknown as { value: number }).value),
        100,
      );
      assert.ok(
        (await page.locator('#progress-messages li').count()) >= 1,
        'no progress message from the proxy',
      );
      assert.equal(await stack.state('alice', 'hello'), 'running');
      await rowInState(page, '#mine', 'alice', 'hello', 'Running');
    });

    it('opens the app from the progress dialog', async () => {
      const { page } = alice;
      await page.locator('#progress-open').click();
      await page.locator('#app', { hasText: 'e2e app' }).waitFor();
      assert.equal(new URL(page.url()).pathname, '/apps/alice/hello/');
      await page.goto(stack.launcher);
      await waitForLauncher(page, 'alice');
    });

    it('keeps "My servers" current without a reload when a server changes elsewhere', async () => {
      const { page } = alice;
      assert.equal(
        (await stack.api('POST', '/users/alice/servers/scripted', { app: 'hello' })).status,
        202,
      );
      await rowInState(page, '#mine', 'alice', 'scripted', 'Running');
      await stack.api('DELETE', '/users/alice/servers/scripted');
      await rowInState(page, '#mine', 'alice', 'scripted', 'Stopped');
    });

    it('stops a server from "My servers", after which its card offers Start again', async () => {
      const { page } = alice;
      await page.getByRole('button', { name: 'Stop hello', exact: true }).click();
      await rowInState(page, '#mine', 'alice', 'hello', 'Stopped');
      assert.equal(await stack.state('alice', 'hello'), 'stopped');
      await page.getByRole('button', { name: 'Start Hello', exact: true }).waitFor();
    });

    it('removes an ended server from "My servers" once the question is answered yes, and keeps it on no', async () => {
      const { page } = alice;
      assert.equal(
        (await stack.api('POST', '/users/alice/servers/leftover', { app: 'hello' })).status,
        202,
      );
      await rowInState(page, '#mine', 'alice', 'leftover', 'Running');
      assert.equal(
        await page.getByRole('button', { name: 'Remove leftover', exact: true }).count(),
        0,
        'Remove is offered for a running server',
      );
      await stack.api('DELETE', '/users/alice/servers/leftover');
      await rowInState(page, '#mine', 'alice', 'leftover', 'Stopped');
      const remove = page.getByRole('button', { name: 'Remove leftover', exact: true });
      page.once('dialog', (d) => void d.dismiss());
      await remove.click();
      assert.equal(await stack.state('alice', 'leftover'), 'stopped', 'removed after a no');
      page.once('dialog', (d) => void d.accept());
      await remove.click();
      await row(page, '#mine', 'alice', 'leftover').waitFor({ state: 'detached' });
      assert.equal(await stack.state('alice', 'leftover'), 'none');
    });

    it("shows a stopped server's log, and says it does not grow any more", async () => {
      const { page } = alice;
      await page.getByRole('button', { name: 'Logs of hello', exact: true }).click();
      await page.locator('#logs-text', { hasText: 'e2e app listening on' }).waitFor();
      await page.locator('#logs-note', { hasText: 'stopped' }).waitFor();
      assert.equal(await page.locator('#logs-follow').isChecked(), false);
      await closeDialog(page, '#logs');
    });

    it('follows the log of a running server while it grows', async () => {
      const { page } = alice;
      await page.getByRole('button', { name: 'Start Slow starter', exact: true }).click();
      await page.locator('#progress-messages li').first().waitFor();
      await screenshot(page, 'progress');
      await waitUntilReady(page);
      await closeDialog(page, '#progress');
      await page.getByRole('button', { name: 'Logs of slow', exact: true }).click();
      await page.locator('#logs-text', { hasText: 'e2e app listening on' }).waitFor();
      assert.equal(await page.locator('#logs-follow').isChecked(), true);
      const res = await stack.viaChp('/apps/alice/slow/followed-request', {
        authorization: `token ${stack.token}`,
      });
      assert.equal(res.status, 200);
      await page
        .locator('#logs-text', { hasText: 'request /followed-request' })
        .waitFor({ timeout: 10000 });
      await closeDialog(page, '#logs');
    });

    it('asks for a name to start a second instance and checks the name before sending it', async () => {
      const { page } = alice;
      await page.getByRole('button', { name: 'Start Hello', exact: true }).click();
      await waitUntilReady(page);
      await closeDialog(page, '#progress');
      await page.getByRole('button', { name: 'Start another Hello', exact: true }).click();
      const input = page.getByLabel('Server name');
      assert.equal(await input.inputValue(), 'hello-2');
      await input.fill('Bad Name!');
      await page.locator('#name-form').getByRole('button', { name: 'Start', exact: true }).click();
      await page.locator('#name-error', { hasText: 'lower-case letters' }).waitFor();
      assert.equal(await input.getAttribute('aria-invalid'), 'true');
      await input.fill('hello');
      await page.locator('#name-form').getByRole('button', { name: 'Start', exact: true }).click();
      await page
        .locator('#name-error', { hasText: 'already have a server called hello' })
        .waitFor();
      await input.fill('second');
      await page.locator('#name-form').getByRole('button', { name: 'Start', exact: true }).click();
      await waitUntilReady(page);
      await closeDialog(page, '#progress');
      const mine = await stack.api('GET', '/users/alice');
      assert.deepEqual(Object.keys(mine.body.servers).sort(), [
        'hello',
        'scripted',
        'second',
        'slow',
      ]);
      assert.equal(mine.body.servers.second.app, 'hello');
      assert.equal(mine.body.servers.second.state, 'running');
      await rowInState(page, '#mine', 'alice', 'second', 'Running');
      await page.locator('.card[data-app="hello"] .instances', { hasText: 'second' }).waitFor();
      await screenshot(page, 'launcher', true);
    });

    it('shows why a failing app failed, with the tail of its log, and retries it', async () => {
      const { page } = alice;
      await page.getByRole('button', { name: 'Start Broken', exact: true }).click();
      await page.locator('#progress-failure').waitFor({ timeout: 20000 });
      assert.ok(
        ((await page.locator('#progress-reason').textContent()) ?? '').length > 0,
        'no reason shown',
      );
      await page
        .locator('#progress-log', { hasText: 'broken: cannot read /etc/broken/settings.toml' })
        .waitFor();
      const failures = async () =>
        (await stack.api('GET', '/users/alice/servers/broken/logs?tail=500')).body.lines.filter(
          (l: string) => l.includes('broken: cannot read'),
        ).length;
      const before = await failures();
      await page.getByRole('button', { name: 'Retry', exact: true }).click();
      await waitFor(async () => (await failures()) > before, {
        timeout: 20000,
        what: 'the retry to run the app again',
      });
      await page.locator('#progress-failure').waitFor({ timeout: 20000 });
      assert.equal(await stack.state('alice', 'broken'), 'failed');
      // The log now holds two attempts: the one that just failed comes first, the earlier one under a heading.
      await page.locator('#progress-log', { hasText: 'earlier attempts' }).waitFor();
      const [current, earlier] = ((await page.locator('#progress-log').textContent()) ?? '').split(
        '── earlier attempts (older) ──',
      );
      assert.match(current!, /^\S+ hubapps: start of alice\/broken \(app broken\)\n/);
      const appLines = (text: string) =>
        text.split('\n').filter((l) => l === 'broken: cannot read /etc/broken/settings.toml')
          .length;
      assert.equal(appLines(current!), 1, current);
      assert.ok(appLines(earlier!) >= 1, earlier);
      await closeDialog(page, '#progress');
      await rowInState(page, '#mine', 'alice', 'broken', 'Failed');
    });
  });

  describe('the admin view', () => {
    it("lists every user's servers to an admin, filters them, and stops one of alice's", async () => {
      assert.equal(
        (await stack.api('POST', '/users/bob/servers/notes', { app: 'hello' })).status,
        202,
      );
      const { page } = await session('ada');
      await waitForLauncher(page, 'ada');
      await page.getByRole('link', { name: 'Admin', exact: true }).click();
      await rowInState(page, '#admin-table', 'bob', 'notes', 'Running');
      await screenshot(page, 'admin', true);
      await page.getByLabel('User', { exact: true }).fill('ali');
      await page.getByLabel('State', { exact: true }).selectOption('running');
      await rowInState(page, '#admin-table', 'alice', 'second', 'Running');
      assert.equal(
        await page.locator('#admin-table tbody tr').count(),
        3,
        'hello, second and slow are running',
      );
      await page.getByLabel('App', { exact: true }).selectOption('hello');
      await waitFor(async () => (await page.locator('#admin-table tbody tr').count()) === 2, {
        what: 'the app filter to leave hello and second',
      });
      await row(page, '#admin-table', 'alice', 'hello')
        .getByRole('link', { name: 'Open alice/hello', exact: true })
        .waitFor();
      await page.getByLabel('State', { exact: true }).selectOption('');
      await page.getByRole('button', { name: 'Stop alice/second', exact: true }).click();
      await rowInState(page, '#admin-table', 'alice', 'second', 'Stopped');
      assert.equal(await stack.state('alice', 'second'), 'stopped');
    });

    it('is not offered to a user who is not an admin, and the API refuses it', async () => {
      const { page } = alice;
      assert.equal(await page.locator('#nav-admin').isHidden(), true);
      const status = await page.evaluate(() => fetch('api/users').then((r) => r.status));
      assert.equal(status, 403);
    });
  });

  describe('start-on-visit', () => {
    it("offers the user's own stopped server when its address is visited, starts it on a click, and lands on the page asked for", async () => {
      await stack.api('DELETE', '/users/alice/servers/hello');
      const { page } = alice;
      await page.goto(`${stack.chp.proxyUrl}/apps/alice/hello/deep/page?x=1`);
      await page.locator('#visit', { hasText: 'Not running — start it?' }).waitFor();
      await sleep(1000);
      assert.equal(await stack.state('alice', 'hello'), 'stopped', 'started without a click');
      await page.getByRole('button', { name: 'Start hello', exact: true }).click();
      await page.locator('#path', { hasText: '/deep/page?x=1' }).waitFor({ timeout: 30000 });
      assert.equal(new URL(page.url()).pathname, '/apps/alice/hello/deep/page');
      assert.equal(await stack.state('alice', 'hello'), 'running');
    });

    it("asks before starting someone else's server, and only an admin may", async () => {
      assert.equal(await stack.state('alice', 'second'), 'stopped');
      const bob = await session('bob');
      await bob.page.goto(`${stack.chp.proxyUrl}/apps/alice/second/`);
      await bob.page
        .locator('#visit', { hasText: 'Only alice or an admin can start it.' })
        .waitFor();
      assert.equal(
        await bob.page.getByRole('button', { name: 'Start it for alice', exact: true }).count(),
        0,
      );

      const ada = await session('ada');
      await ada.page.goto(`${stack.chp.proxyUrl}/apps/alice/second/`);
      await ada.page.locator('#visit', { hasText: 'Not running — start it?' }).waitFor();
      await sleep(1000);
      assert.equal(await stack.state('alice', 'second'), 'stopped', 'started without being asked');
      await ada.page.getByRole('button', { name: 'Start it for alice', exact: true }).click();
      await ada.page.locator('#app', { hasText: 'e2e app' }).waitFor({ timeout: 30000 });
      assert.equal(await stack.state('alice', 'second'), 'running');
    });
  });

  describe('at phone width (375 px), with the keyboard', () => {
    it('fits the screen without sideways scrolling and starts an app with Enter', async () => {
      const { page } = await session('alice', { width: 375 });
      await waitForLauncher(page, 'alice');
      await rowInState(page, '#mine', 'alice', 'hello', 'Running');
      assert.ok(
        await page.evaluate('document.documentElement.scrollWidth <= 375'),
        'the page scrolls sideways at 375 px',
      );
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate('document.activeElement?.textContent'), 'Skip to content');
      await page.getByRole('button', { name: 'Start broken again', exact: true }).focus();
      await page.keyboard.press('Enter');
      await page.locator('#progress').waitFor();
      await page.locator('#progress-failure').waitFor({ timeout: 20000 });
      // The page behind a dialog does not scroll, so the backdrop covers all of what is seen.
      await page.setViewportSize({ width: 375, height: 320 });
      assert.ok(
        await page.evaluate('document.documentElement.scrollHeight > innerHeight * 2'),
        'the page is too short to scroll behind the dialog',
      );
      const before = await page.evaluate('scrollY');
      await page.mouse.move(10, 310);
      await page.mouse.wheel(0, 2000);
      await sleep(500);
      assert.equal(await page.evaluate('scrollY'), before, 'the page scrolled behind the dialog');
      await page.keyboard.press('Escape');
      await page.locator('#progress').waitFor({ state: 'hidden' });
    });
  });
});
