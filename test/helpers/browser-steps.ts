/**
 * What a browser does on per-server origins, as the API tests of a local stack replay it:
 * a launcher session through a login link, and the first visit of a server's host up to
 * the authorize page.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { httpFetch } from './http-fetch.js';
import { useLoginLink } from './login-link.js';
import type { LocalStack } from './stack.js';

/** The headers of a top-level page load. */
export const NAV = {
  accept: 'text/html',
  'sec-fetch-mode': 'navigate',
  'sec-fetch-dest': 'document',
};

/** A test app's script in a private temp directory; `remove` deletes both. */
export function writeAppScript(source: string): { file: string; remove(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hubapps-test-app-'));
  const file = path.join(dir, 'app.cjs');
  fs.writeFileSync(file, source);
  return { file, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** The launcher session cookie (name=value) a browser of `user` gets from a login link the admin minted. */
export async function launcherSession(stack: LocalStack, user: string): Promise<string> {
  const link = await stack.api('POST', `/users/${user}/login-links`, {});
  const res = await useLoginLink(stack.service.urls.serviceOrigin, link.body.url);
  return res.headers.get('set-cookie')!.split(';')[0]!;
}

/** The status at which a browser of `user` stops at /authorize for the server on `host`: 302 means a code was granted. */
export async function authorizeStatus(
  stack: LocalStack,
  host: string,
  user: string,
): Promise<number> {
  const launcher = await launcherSession(stack, user);
  const first = await stack.viaApps(host, '/', { headers: NAV });
  const to = new URL(first.headers.location!);
  return (
    await httpFetch(`${stack.service.urls.serviceOrigin}${to.pathname}${to.search}`, {
      headers: { ...NAV, cookie: launcher },
    })
  ).status;
}
