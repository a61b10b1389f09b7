/**
 * The page a framed server shows inside another site before the browser has a cookie for
 * that frame. The frame cannot sign in by itself: the browser sends the launcher's cookie
 * only to top-level pages, and the service grants only to top-level page loads. So the
 * button opens the service's authorize page in a popup (a top-level window); the popup
 * hands the one-time code back to this page with postMessage, aimed at this server's
 * origin only, and this page takes it to the grant endpoint inside the frame, where the
 * proxy sets a partitioned cookie. The code is bound to the grant cookie set with this
 * page, which lives in the partition of the frame's top-level site.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FramingPolicy } from '../../protocol/wire.js';
import { frameAncestors } from './headers.js';

export interface SignInPage {
  /** The service's authorize page for this server, in embed mode. */
  authorizeUrl: string;
  /** The partitioned grant cookie the code will be bound to. */
  setCookie: string;
  /** Only messages from this origin (the service's) are taken. */
  launcherOrigin: string;
  /** e.g. /apps/alice/lab/_hubapps/grant */
  grantPath: string;
  framing: FramingPolicy;
}

export function sendSignInPage(req: IncomingMessage, res: ServerResponse, page: SignInPage): void {
  const nonce = randomBytes(16).toString('base64');
  const body = html(page, nonce);
  res.writeHead(401, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'set-cookie': page.setCookie,
    'content-security-policy': `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; ${frameAncestors(page.framing)}`,
    'referrer-policy': 'same-origin',
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** A value for an inline script: JSON with '<' escaped, so no string can end the script element. */
function js(value: string): string {
  return JSON.stringify(value).replaceAll('<', '\\u003c');
}

function html(page: SignInPage, nonce: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>Sign in</title>
<style>body{font-family:system-ui,sans-serif;max-width:32em;margin:3em auto;padding:0 1em;color:#222}button{font:inherit;padding:.5em 1.2em}</style></head>
<body><h1>Sign in to open this app</h1>
<p>This app is shown inside another site. Sign in once in the window that opens; the app then appears here.</p>
<p><button id="sign-in" type="button">Sign in</button></p>
<p id="status" role="status"></p>
<script nonce="${nonce}">
(() => {
  const authorize = ${js(page.authorizeUrl)};
  const service = ${js(page.launcherOrigin)};
  const grant = ${js(page.grantPath)};
  const status = document.getElementById('status');
  let popup = null;
  document.getElementById('sign-in').addEventListener('click', () => {
    popup = window.open(authorize, 'hubapps-sign-in', 'popup,width=560,height=680');
    status.textContent = popup ? 'Waiting for the sign-in window…' : 'The browser blocked the sign-in window: allow pop-ups for this site and try again.';
  });
  window.addEventListener('message', (event) => {
    if (popup === null || event.source !== popup || event.origin !== service) return;
    const code = event.data && event.data.hubappsGrant;
    if (typeof code !== 'string') return;
    popup.close();
    location.replace(grant + '?code=' + encodeURIComponent(code));
  });
})();
</script></body></html>
`;
}
