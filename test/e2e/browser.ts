/**
 * Headless Chromium (Debian's /usr/bin/chromium) driven by playwright-core, and the few
 * things the end-to-end test does with it: log in on the hub's own form, call the hubapps
 * API from inside a page (same origin, the page's cookies, the XSRF header), and open a
 * WebSocket from a page.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export function chromiumInstalled(): boolean {
  return existsSync(CHROMIUM);
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/**
 * A fresh context (no cookies) whose requests to any host but 127.0.0.1 (and, with
 * `appsDomain`, the servers' own hosts below it, which Chromium resolves to loopback) are
 * answered by the test itself with "OFF-HOST <url>": a redirect that leaves the host shows up in the
 * page instead of reaching the network.
 */
export async function newContext(
  browser: Browser,
  opts: { appsDomain?: string } = {},
): Promise<BrowserContext> {
  const context = await browser.newContext();
  const local = (host: string) =>
    host === '127.0.0.1' || (opts.appsDomain !== undefined && host.endsWith(`.${opts.appsDomain}`));
  await context.route(
    (url) => !local(url.hostname),
    (route) =>
      route.fulfill({
        status: 200,
        contentType: 'text/plain',
        body: `OFF-HOST ${route.request().url()}`,
      }),
  );
  return context;
}

/** Submit the hub's login form; resolves once the browser has left /hub/login (wherever the hub sent it). */
export async function hubLogin(
  page: Page,
  publicUrl: string,
  user: string,
  password: string,
): Promise<void> {
  await page.goto(`${publicUrl}/hub/login`);
  await page.fill('#username_input', user);
  await page.fill('#password_input', password);
  await Promise.all([
    page.waitForURL((url) => url.pathname !== '/hub/login', { waitUntil: 'load' }),
    page.click('#login_submit'),
  ]);
}

export interface PageAnswer {
  status: number;
  body: any;
}

/**
 * fetch() from inside the page, as the launcher's own scripts call the API: same origin,
 * the page's cookies, and on state changes the session's XSRF token from GET api/user.
 */
export async function apiFromPage(
  page: Page,
  method: string,
  path: string,
  body?: unknown,
): Promise<PageAnswer> {
  return page.evaluate(
    async ({ method, path, body }) => {
      const headers: Record<string, string> = { accept: 'application/json' };
      if (method !== 'GET') {
        const me = await fetch('/services/hubapps/api/user').then(
          (r) => r.json() as Promise<{ xsrf: string }>,
        );
        headers['x-xsrf-token'] = me.xsrf;
      }
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(`/services/hubapps/api${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        /* not JSON: the text is the answer */
      }
      return { status: res.status, body: parsed };
    },
    { method, path, body },
  );
}

/** Open a WebSocket from the page to `path` (same host), send one message, resolve with the first answer or the failure. */
export function webSocketFromPage(page: Page, path: string, message: string): Promise<string> {
  return page.evaluate(
    ({ path, message }) =>
      new Promise<string>((resolve) => {
        // Runs in the page: its location, not Node's (which has none).
        const host = (globalThis as unknown as { location: { host: string } }).location.host;
        const ws = new WebSocket(`ws://${host}${path}`);
        const timer = setTimeout(() => resolve('timeout'), 5000);
        ws.onopen = () => ws.send(message);
        ws.onmessage = (ev) => {
          clearTimeout(timer);
          resolve(String(ev.data));
          ws.close();
        };
        ws.onerror = () => {
          clearTimeout(timer);
          resolve('error');
        };
      }),
    { path, message },
  );
}
