/**
 * What users and admins do in JupyterHub 3.0's own pages when hubapps is the spawner, in
 * Chromium: log in, make a token on the hub, start a named server from /hub/home through the
 * options form and the spawn-pending page, let the hub's authorize page through, and stop a
 * server from the admin panel.
 */
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { waitFor } from '../helpers/wait.js';
import { hubLogin, newContext } from './browser.js';

export async function loginToHub(
  browser: Browser,
  publicUrl: string,
  password: string,
  user: string,
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await newContext(browser);
  const page = await context.newPage();
  await hubLogin(page, publicUrl, user, password);
  assert.ok(
    (await context.cookies()).some((c) => c.name === 'jupyterhub-hub-login'),
    `${user} has no hub session`,
  );
  return { context, page };
}

/** A hub API token of the page's user, made as the hub's token page makes it (the user's cookie). */
export async function hubTokenFromPage(
  page: Page,
  publicUrl: string,
  user: string,
  scopes?: string[],
): Promise<string> {
  const tokenPage = await page.context().newPage();
  await tokenPage.goto(`${publicUrl}/hub/token`);
  const made = await tokenPage.evaluate(
    async ({ user, scopes }) => {
      const res = await fetch(`/hub/api/users/${user}/tokens`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ note: 'e2e', expires_in: 3600, ...(scopes ? { scopes } : {}) }),
      });
      return { status: res.status, body: (await res.json()) as { token?: string } };
    },
    { user, scopes },
  );
  await tokenPage.close();
  assert.equal(made.status, 201, JSON.stringify(made.body));
  return made.body.token!;
}

/**
 * Records, in the tab's sessionStorage (it outlives the redirects to the server), each
 * message the spawn-pending page appends to its event log and each value of its progress bar.
 */
const RECORD_PROGRESS = `(() => {
  if (!location.pathname.includes('/hub/spawn-pending/')) return;
  const keep = (key, value) => {
    const list = JSON.parse(sessionStorage.getItem(key) || '[]');
    list.push(value);
    sessionStorage.setItem(key, JSON.stringify(list));
  };
  document.addEventListener('DOMContentLoaded', () => {
    const log = document.getElementById('progress-log');
    const bar = document.getElementById('progress-bar');
    new MutationObserver((changes) => {
      for (const c of changes) for (const n of c.addedNodes) keep('e2e-progress-log', n.textContent);
    }).observe(log, { childList: true });
    new MutationObserver(() => keep('e2e-progress-bar', bar.getAttribute('aria-valuenow'))).observe(bar, { attributes: true, attributeFilter: ['aria-valuenow'] });
  });
})();`;

export interface SpawnSeen {
  /** Paths the tab navigated to, in order. */
  visited: string[];
  /** The messages of the spawn-pending page's event log. */
  log: string[];
  /** The values its progress bar took. */
  bar: number[];
}

/** Pick `app` in the spawner's options form, whether it offers the apps as a list or as radio buttons. */
async function chooseApp(page: Page, app: string): Promise<void> {
  const select = page.locator('#spawn_form select[name="app"]');
  if ((await select.count()) > 0) await select.selectOption(app);
  else await page.locator(`#spawn_form input[name="app"][value="${app}"]`).check();
}

/**
 * From /hub/home: name a new server, "Add New Server", pick the app in the options form,
 * Start; then the spawn-pending page until the browser has landed on the running server.
 */
export async function spawnFromHome(
  page: Page,
  publicUrl: string,
  user: string,
  server: string,
  app: string,
  landed: (page: Page) => Promise<boolean>,
): Promise<SpawnSeen> {
  await page.addInitScript(RECORD_PROGRESS);
  const visited: string[] = [];
  page.on('framenavigated', (f) => {
    if (f === page.mainFrame()) visited.push(new URL(f.url()).pathname);
  });
  await page.goto(`${publicUrl}/hub/home`);
  await page.fill('.new-server-name', server);
  // The button works once require.js has loaded home.js, which the page's load does not wait for.
  const spawnPage = (u: URL) => u.pathname === `/hub/spawn/${user}/${server}`;
  await waitFor(
    async () => {
      if (!spawnPage(new URL(page.url()))) await page.click('.new-server-btn');
      await page.waitForURL(spawnPage, { timeout: 1000 });
      return true;
    },
    { timeout: 15_000, what: '"Add New Server" to open the spawn page' },
  );
  await chooseApp(page, app);
  await page.click('#spawn_form input[type="submit"]');
  await waitFor(
    async () => new URL(page.url()).pathname.startsWith(`/user/${user}/${server}/`) && landed(page),
    { timeout: 60_000, interval: 250, what: `the browser to land on ${user}/${server}` },
  );
  const stored = (key: string) =>
    page.evaluate(
      // Runs in the page, which has sessionStorage (Node has none).
      (k) => JSON.parse((globalThis as any).sessionStorage.getItem(k) ?? '[]') as string[],
      key,
    );
  return {
    visited,
    log: await stored('e2e-progress-log'),
    bar: (await stored('e2e-progress-bar')).map(Number),
  };
}

/** The hub's "Authorize access" page, shown when a user opens a server that is not her own: confirm it. */
export async function confirmAuthorizeIfAsked(page: Page): Promise<void> {
  const button = page.locator('input[type="submit"][value="Authorize"]');
  // The hub's refusal (403) is shown at the same address, without the button.
  if (new URL(page.url()).pathname !== '/hub/api/oauth2/authorize' || (await button.count()) === 0)
    return;
  await Promise.all([
    page.waitForURL((u) => u.pathname !== '/hub/api/oauth2/authorize', { waitUntil: 'load' }),
    button.click(),
  ]);
}

/** In the admin panel (/hub/admin, React in JupyterHub 3.0): the row of `user`'s `server`, its "Stop Server" button. */
export async function stopFromAdminPanel(
  page: Page,
  publicUrl: string,
  user: string,
  server: string,
): Promise<void> {
  await page.goto(`${publicUrl}/hub/admin`);
  const row = page
    .locator('tr.user-row')
    .filter({ has: page.locator('[data-testid="user-row-name"]', { hasText: user }) })
    .filter({ has: page.locator('[data-testid="user-row-server"]', { hasText: server }) });
  await row.locator('button.stop-button').click({ timeout: 15_000 });
}
