import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import { safeNext } from '../auth/redirects.js';
import { HubappsError } from '../errors.js';
import { SERVER_NAME, USER_NAME } from '../names.js';
import { GRANT_PATH, type RedeemGrantRequest, type RedeemGrantResponse } from '../proxy/protocol.js';
import type { ApiDeps } from './deps.js';
import { escapeHtml } from './html.js';
import { mayUseServer, proxyRow } from './access.js';
import { page } from './pages.js';

const GRANT_TTL_S = 60;

/**
 * Per-server access grants. A proxy sends a browser without its cookie to
 * {service}authorize; with a launcher session that may use the server, the browser comes
 * back to the proxy with a single-use code (60 s, bound to that server), which the proxy
 * redeems over loopback with its secret before it sets its own cookie.
 */
export function grantRoutes(deps: ApiDeps): { pages: Router; internal: Router } {
  const pages = new Router();
  pages.get('/authorize', async (ctx) => {
    const user = String(ctx.query.user ?? '');
    const name = String(ctx.query.server ?? '');
    const row = USER_NAME.test(user) && SERVER_NAME.test(name) ? deps.store.get(user, name) : undefined;
    if (!row) return page(ctx, 404, 'No such server', '<p>There is no server at this address.</p>');
    const serverPrefix = deps.urls.serverPrefix(row.user, row.name);
    const next = safeNext(ctx.query.next, serverPrefix, serverPrefix);
    const who = await deps.auth.identify(ctx);
    if (!who) return ctx.redirect(`${deps.urls.servicePrefix()}login?next=${encodeURIComponent(ctx.originalUrl)}`);
    if (!mayUseServer(deps, who, row.user)) {
      deps.store.audit(row, `${who.name} was refused access to ${row.user}/${row.name}`, who.name);
      return page(ctx, 403, 'Not your server', `<p>You are logged in as <b>${escapeHtml(who.name)}</b>; this server belongs to ${escapeHtml(row.user)}.</p>`);
    }
    if (row.state !== 'running') return page(ctx, 503, 'Not running', `<p>This server is ${escapeHtml(row.state)}. <a href="${escapeHtml(deps.urls.servicePrefix())}">Open the launcher</a>.</p>`);
    const code = deps.authStore.createCode({ kind: 'grant', user: who.name, admin: who.admin, serverId: row.id, next, ttlS: GRANT_TTL_S });
    // In the host layout the code travels to the server's own origin, which sets its own cookie there.
    const origin = deps.urls.hostLayout ? deps.urls.serverOrigin(row.user, row.name) : '';
    ctx.redirect(`${origin}${serverPrefix}${GRANT_PATH}?code=${encodeURIComponent(code)}`);
  });

  const internal = new Router();
  internal.post('/internal/redeem-grant', bodyParser({ enableTypes: ['json'], jsonLimit: '4kb' }), async (ctx) => {
    const body = ctx.request.body as Partial<RedeemGrantRequest>;
    const row = proxyRow(deps, body.serverId, ctx.get('authorization'));
    // Bound to the server in the query itself: another server's proxy cannot even use up a code.
    const grant = typeof body.code === 'string' ? deps.authStore.useGrant(body.code, row.id) : undefined;
    if (!grant) throw new HubappsError('invalid_grant', 403, 'unknown, used, expired or foreign access code');
    const answer: RedeemGrantResponse = { user: grant.user, admin: grant.admin === 1, ttl: 0, next: grant.next ?? '' };
    ctx.body = answer;
  });
  return { pages, internal };
}
