/**
 * Logging a fresh browser context in to hubapps the way users do: the hub's login form,
 * then the hub's OAuth round trip back to the launcher.
 */
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { waitFor } from '../helpers/wait.js';
import { hubLogin, newContext } from './browser.js';

export async function loginToHubapps(
  browser: Browser,
  publicUrl: string,
  password: string,
  user: string,
  opts: { appsDomain?: string } = {},
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await newContext(browser, opts);
  const page = await context.newPage();
  // The launcher loads twice: first from the hub (no session yet, so its script goes on to log in), then after the OAuth callback.
  const events: string[] = [];
  page.on('response', (r) => {
    if (r.request().isNavigationRequest()) events.push(new URL(r.url()).pathname);
  });
  page.on('load', () => events.push('load'));
  await hubLogin(page, publicUrl, user, password);
  await waitFor(
    () =>
      events.includes('/services/hubapps/oauth_callback') &&
      events.slice(events.indexOf('/services/hubapps/oauth_callback')).includes('load'),
    {
      timeout: 15_000,
      what: `${user} to land on the launcher after logging in to hubapps (went through ${events.join(' ')})`,
    },
  );
  assert.equal(new URL(page.url()).pathname, '/services/hubapps/');
  assert.ok(
    (await context.cookies()).some((c) => c.name === 'hubapps-session'),
    `${user} has no hubapps session`,
  );
  return { context, page };
}
