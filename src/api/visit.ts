import type { Context } from 'koa';
import { SERVER_NAME, USER_NAME } from '../names.js';
import type { ServerState } from '../model/states.js';
import type { ApiDeps } from './deps.js';

/**
 * Start-on-visit: a browser that navigates to a server that is not running is sent to the
 * launcher with what it asked for. The launcher holds the session (its cookie never
 * reaches /apps/), so it decides: it looks the server and its app up through the API, the
 * user's own server starts at once and the browser goes on to `next`; anyone else is asked.
 * Nobody is known here, so the answer is the same whether the server exists or not (it
 * names no app). Scripts and sub-resources (no HTML navigation) keep getting the plain 503.
 */
export function startOnVisitUrl(
  deps: ApiDeps,
  ctx: Context,
  user: string | undefined,
  name: string | undefined,
  state: ServerState | undefined,
  next: string,
): string | undefined {
  if (!user || !name || !USER_NAME.test(user) || !SERVER_NAME.test(name) || name.includes('..'))
    return undefined;
  // A running row whose route is missing for a moment (CHP restarted) is reconcile's job; sending it to the launcher could loop.
  if (state === 'running' || !isNavigation(ctx)) return undefined;
  const query = new URLSearchParams({ start: name, user, next });
  // Absolute: in the host layout this page is on an app's host, not the launcher's.
  return `${deps.urls.hostLayout ? deps.urls.launcherUrl() : deps.urls.servicePrefix()}?${query}`;
}

function isNavigation(ctx: Context): boolean {
  if (ctx.method !== 'GET') return false;
  return ctx.get('sec-fetch-mode') === 'navigate' || /\btext\/html\b/.test(ctx.get('accept'));
}
