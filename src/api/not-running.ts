import type { Context } from 'koa';
import { escapeHtml } from './html.js';
import type { ApiDeps } from './deps.js';
import { startOnVisitUrl } from './visit.js';

/**
 * CHP sends requests for servers that have no route of their own here (the catch-all
 * route on the apps prefix). A browser asking for a stopped server of a known app goes to
 * the launcher, which starts it or offers to; everything else gets a page that says the
 * server is not running and links to the launcher, instead of CHP's bare 503.
 */
export function notRunningPage(deps: ApiDeps, ctx: Context): void {
  const rest = ctx.path.slice(deps.urls.catchallRoute().length).split('/').filter(Boolean);
  const [user, name] = rest;
  const row = user && name ? deps.store.get(user, name) : undefined;
  const visit = startOnVisitUrl(deps, ctx, user, name, row);
  if (visit) {
    ctx.set('Cache-Control', 'no-store');
    return ctx.redirect(visit);
  }
  const launcher = deps.urls.servicePrefix();
  // This page answers anyone (the launcher's cookie does not reach this path): the state, reason and log of a server are shown to its owner and admins in the launcher only.
  const what = row ? 'This server is not running.' : 'There is no server at this address.';
  ctx.status = 503;
  ctx.set('Cache-Control', 'no-store');
  ctx.type = 'text/html';
  ctx.body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Server not running</title></head><body style="font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem">
<h1>Not running</h1><p>${what}</p>
<p><a href="${escapeHtml(launcher)}">Open the launcher</a> to see its state and start it.</p></body></html>`;
}
