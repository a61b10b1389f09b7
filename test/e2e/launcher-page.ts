/**
 * Driving the launcher page as a person would: log in with a link, press the buttons by
 * their accessible names, read what the page shows. Screenshots go to $HUBAPPS_SCREENSHOTS
 * when it is set (npm run screenshots writes docs/img/).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import type { LauncherStack } from './launcher-stack.js';

export interface LauncherSession {
  context: BrowserContext;
  page: Page;
  /** Uncaught errors of the page's scripts: a test ends by checking there were none. */
  errors: string[];
}

/** A fresh browser (no cookies) logged in as `user` through a login link; the page ends on `next` or the launcher. */
export async function loginAs(
  browser: Browser,
  stack: LauncherStack,
  user: string,
  opts: { next?: string; width?: number } = {},
): Promise<LauncherSession> {
  const context = await browser.newContext({
    viewport: { width: opts.width ?? 1100, height: 760 },
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  await page.goto(await stack.loginLink(user, opts.next));
  await page.getByRole('button', { name: 'Log in' }).click();
  return { context, page, errors };
}

export async function waitForLauncher(page: Page, user: string): Promise<void> {
  await page.locator('#who', { hasText: user }).waitFor();
  await page.locator('#cards .card').first().waitFor();
}

export function row(
  page: Page,
  table: '#mine' | '#admin-table',
  user: string,
  name: string,
): Locator {
  return page.locator(`${table} tr[data-server="${user}/${name}"]`);
}

/** Wait until a row shows `state` (the badge's word, e.g. "Running"). */
export async function rowInState(
  page: Page,
  table: '#mine' | '#admin-table',
  user: string,
  name: string,
  state: string,
  timeout = 20000,
): Promise<void> {
  await row(page, table, user, name)
    .locator('td[data-label="State"]', { hasText: state })
    .waitFor({ timeout });
}

/** The start dialog reached "ready": its Open link is shown. */
export async function waitUntilReady(page: Page, timeout = 30000): Promise<void> {
  await page.locator('#progress-open').waitFor({ state: 'visible', timeout });
}

export async function closeDialog(page: Page, id: '#progress' | '#logs'): Promise<void> {
  await page.locator(`${id}-close`).click();
  await page.locator(id).waitFor({ state: 'hidden' });
}

export async function screenshot(page: Page, name: string, fullPage = false): Promise<void> {
  const dir = process.env.HUBAPPS_SCREENSHOTS;
  if (!dir) return;
  fs.mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage });
}
