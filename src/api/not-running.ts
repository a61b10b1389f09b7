import type { Context } from 'koa';
import { hostLabel } from '../host-label.js';
import { SERVER_NAME, USER_NAME } from '../names.js';
import type { ServerRow } from '../model/server.js';
import { escapeHtml } from '../http/html.js';
import type { ApiDeps } from './deps.js';
import { startOnVisitUrl } from './visit.js';
import { portHostPage } from './port-host.js';

/**
 * JupyterHub's CHP sends requests below the apps prefix that have no route of their own
 * here (the catch-all route). In the path layout that is a server that is not running; in
 * the host layout every server lives on its own host, so the old address redirects there.
 */
export function notRunningPage(deps: ApiDeps, ctx: Context): void {
  const rest = ctx.path.slice(deps.urls.catchallRoute().length).split('/').filter(Boolean);
  const [user, name] = rest;
  if (
    deps.urls.hostLayout &&
    user &&
    name &&
    USER_NAME.test(user) &&
    SERVER_NAME.test(name) &&
    !name.includes('..')
  ) {
    const prefix = deps.urls.pathLayoutPrefix(user, name);
    const tail = ctx.originalUrl.startsWith(prefix)
      ? ctx.originalUrl.slice(prefix.length)
      : ctx.search;
    ctx.set('Cache-Control', 'no-store');
    return ctx.redirect(`${deps.urls.publicServerUrl(user, name)}${tail}`);
  }
  const row = user && name ? deps.queries.find(user, name) : undefined;
  answer(deps, ctx, user, name, row, ctx.originalUrl);
}

/**
 * A request whose Host is on the apps domain: the apps CHP's root route sends every host
 * without a running server here. It gets the not-running page (or start-on-visit) and
 * nothing else: the launcher, the API and the login pages never answer on the apps domain.
 */
export async function appsHostPage(deps: ApiDeps, ctx: Context): Promise<void> {
  const label = deps.urls.appsLabel(ctx.get('host'));
  const notRunning = (user: string, name: string, row: ServerRow | undefined, next: string) =>
    answer(deps, ctx, user, name, row, next);
  if (label && (await portHostPage(deps, ctx, label, notRunning))) return;
  const found = label ? serverOfLabel(deps, label) : undefined;
  const next = found
    ? `${deps.urls.serverOrigin(found.user, found.name)}${ctx.originalUrl}`
    : undefined;
  answer(deps, ctx, found?.user, found?.name, found?.row, next);
}

/** Plain labels name their pair; hashed ones are looked up among the known servers. */
function serverOfLabel(
  deps: ApiDeps,
  label: string,
): { user: string; name: string; row?: ServerRow } | undefined {
  const parts = label.split('--');
  if (parts.length === 2 && hostLabel(parts[1]!, parts[0]!) === label) {
    const [name, user] = parts as [string, string];
    return { user, name, row: deps.queries.find(user, name) };
  }
  const row = deps.queries.list().find((r) => hostLabel(r.user, r.name) === label);
  return row ? { user: row.user, name: row.name, row } : undefined;
}

function answer(
  deps: ApiDeps,
  ctx: Context,
  user: string | undefined,
  name: string | undefined,
  row: ServerRow | undefined,
  next: string | undefined,
): void {
  const visit =
    next === undefined ? undefined : startOnVisitUrl(deps, ctx, user, name, row?.state, next);
  if (visit) {
    ctx.set('Cache-Control', 'no-store');
    return ctx.redirect(visit);
  }
  const launcher = deps.urls.launcherUrl();
  // This page answers anyone (the launcher's cookie does not reach this path), so it says the same whether a server exists or not; its state, reason and log are in the launcher, for its owner and admins.
  ctx.status = 503;
  ctx.set('Cache-Control', 'no-store');
  ctx.type = 'text/html';
  ctx.body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Server not running</title></head><body style="font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem">
<h1>Not running</h1><p>There is no running server at this address.</p>
<p><a href="${escapeHtml(launcher)}">Open the launcher</a> to see its state and start it.</p></body></html>`;
}
