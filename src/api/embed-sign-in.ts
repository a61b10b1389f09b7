/**
 * The service's end of the sign-in of a server framed by another site (app_embedding,
 * proxy/http/sign-in-page.ts). The frame opens {service}authorize?…&embed=1 in a popup;
 * the popup may pass through the login (service and hub redirects) and ends on a page
 * that hands the one-time code to the window that opened it, aimed at the server's
 * origin only. Every other answer of the service severs window.opener
 * (Cross-Origin-Opener-Policy, api/app.ts), and Chromium applies that on redirects too,
 * so this chain, and only it, keeps the opener.
 */
import crypto from 'node:crypto';
import type { Context } from 'koa';
import { page } from './pages.js';

/** Is `next` (a path with query on this host) the authorize page in embed mode? */
export function isEmbedSignIn(next: string, servicePrefix: string): boolean {
  const url = new URL(next, 'http://x');
  return url.pathname === `${servicePrefix}authorize` && url.searchParams.get('embed') === '1';
}

/** This answer keeps window.opener (read by the isolation middleware in api/app.ts). */
export function keepOpener(ctx: Context): void {
  ctx.state.keepOpener = true;
}

/** The popup's last page: the code goes to its opener if that shows a page of `serverOrigin`. */
export function handOver(ctx: Context, code: string, serverOrigin: string): void {
  const nonce = crypto.randomBytes(16).toString('base64');
  const js = (v: string) => JSON.stringify(v).replaceAll('<', '\\u003c');
  ctx.set(
    'Content-Security-Policy',
    `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'unsafe-inline'; frame-ancestors 'none'`,
  );
  keepOpener(ctx);
  page(
    ctx,
    200,
    'Signing in',
    `<p id="status" role="status">Signing you in…</p>
<script nonce="${nonce}">
(() => {
  const status = document.getElementById('status');
  if (!window.opener) {
    status.textContent = 'This window lost the page that opened it. Close it and press Sign in again in the framed app.';
    return;
  }
  window.opener.postMessage({ hubappsGrant: ${js(code)} }, ${js(serverOrigin)});
  status.textContent = 'Signed in: you can close this window.';
  window.close();
})();
</script>`,
  );
}
