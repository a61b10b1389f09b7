import Router from '@koa/router';
import { hubStarted } from '../lifecycle/hub-start.js';
import type { Context } from 'koa';
import { bodyParser } from '@koa/bodyparser';
import { safeNext } from '../auth/redirects.js';
import { HubappsError } from '../errors.js';
import { SERVER_NAME, USER_NAME } from '../names.js';
import { GRANT_PATH, type RedeemGrantRequest, type RedeemGrantResponse } from '../protocol/wire.js';
import type { ApiDeps } from './deps.js';
import { escapeHtml } from '../http/html.js';
import { accessVia, proxyRow } from './server-access.js';
import { page } from './pages.js';
import { handOver, keepOpener } from './embed-sign-in.js';
import { OncePer } from '../limits/once-per.js';
import type { ServerRow } from '../model/server.js';
import type { PortRef } from '../model/auth.js';
import { decidePortAccess, parsePortRef } from './port-access.js';

const GRANT_TTL_S = 60;
const REFUSAL_AUDIT_WINDOW_MS = 60_000;
/** The base64url SHA-256 of the proxy's grant cookie. */
const BINDING = /^[A-Za-z0-9_-]{43}$/;

/**
 * Per-server access grants. A proxy sends a browser without its cookie to
 * {service}authorize with the hash of a grant cookie it just set; with a launcher session
 * that may use the server, the browser comes back to the proxy with a single-use code
 * (60 s, bound to that server and to that hash), which the proxy redeems over loopback
 * with its secret and the browser's grant cookie before it sets its own cookie. Grants go
 * only to top-level page loads: a frame or a script gets none.
 */
export function grantRoutes(deps: ApiDeps): { pages: Router; internal: Router } {
  const pages = new Router();
  // A browser or script looping on a refusal would otherwise write a row per request.
  const recorded = new OncePer(REFUSAL_AUDIT_WINDOW_MS);
  const refused = (
    row: ServerRow,
    user: string,
    reason: 'not_allowed' | 'too_many_codes',
    message: string,
  ) => {
    deps.metrics.accessRefusals.inc({ reason });
    if (recorded.first(`${user}\n${row.id}\n${reason}`)) deps.manager.audit(row, message, user);
  };
  pages.get('/authorize', async (ctx) => {
    // A browser flow: only a launcher session grants, never a token a script sent along. Asked
    // first, so a caller without one learns nothing, not even whether the server exists.
    const who = await deps.auth.identify(ctx);
    const embed = ctx.query.embed === '1';
    if (!who?.session) {
      if (embed && deps.config.app_embedding.allow.length > 0) keepOpener(ctx);
      return ctx.redirect(
        `${deps.urls.servicePrefix()}login?next=${encodeURIComponent(ctx.originalUrl)}`,
      );
    }
    const user = String(ctx.query.user ?? '');
    const name = String(ctx.query.server ?? '');
    const row =
      USER_NAME.test(user) && SERVER_NAME.test(name) ? deps.queries.find(user, name) : undefined;
    if (!row) return page(ctx, 404, 'No such server', '<p>There is no server at this address.</p>');
    if (hubStarted(row) && row.hub_prefix)
      return page(
        ctx,
        403,
        'Opened through JupyterHub',
        `<p>This server was started through JupyterHub, which lets people in. <a href="${escapeHtml(row.hub_prefix)}">Open it through the hub</a>.</p>`,
      );
    if (!topLevelNavigation(ctx)) {
      return page(
        ctx,
        403,
        'Not a page load',
        '<p>Access to a server is granted only when the browser opens it as a page, not inside a frame or from a script.</p>',
      );
    }
    if (embed && deps.config.app_embedding.allow.length === 0)
      return page(
        ctx,
        400,
        'Embedding is off',
        '<p>No other site may show servers in a frame here (config <code>app_embedding.allow</code>). Open the server directly.</p>',
      );
    const serverPrefix = deps.urls.serverPrefix(row.user, row.name);
    let port: PortRef | undefined;
    try {
      port = askedPort(ctx.query);
    } catch (err) {
      return page(ctx, 400, 'Not a port', `<p>${escapeHtml((err as Error).message)}</p>`);
    }
    const binding = String(ctx.query.binding ?? '');
    if (!BINDING.test(binding)) {
      return page(
        ctx,
        400,
        'Open the server again',
        `<p>This address was not made by the server's proxy. <a href="${escapeHtml(deps.urls.serverLink(row.user, row.name))}">Open the server</a> to get in.</p>`,
      );
    }
    const next = safeNext(ctx.query.next, serverPrefix, serverPrefix);
    if ((await accessVia(deps, who, row)) === null) {
      refused(
        row,
        who.name,
        'not_allowed',
        `${who.name} was refused access to ${row.user}/${row.name}`,
      );
      return page(
        ctx,
        403,
        'Not your server',
        `<p>You are logged in as <b>${escapeHtml(who.name)}</b>; this server belongs to ${escapeHtml(row.user)}.</p>`,
      );
    }
    if (row.state !== 'running')
      return page(
        ctx,
        503,
        'Not running',
        `<p>This server is ${escapeHtml(row.state)}. <a href="${escapeHtml(deps.urls.servicePrefix())}">Open the launcher</a>.</p>`,
      );
    if (port) {
      try {
        await decidePortAccess(deps, row, who, port);
      } catch (err) {
        if (!(err instanceof HubappsError) || err.status >= 500) throw err;
        return page(ctx, err.status, 'No access to this port', `<p>${escapeHtml(err.message)}</p>`);
      }
    }
    // A port's own host gets a code for that port alone; in the path layout its path lies under the server's, whose code it shares.
    const portHost = port && deps.urls.hostLayout ? port : undefined;
    const code = deps.codes.createGrant({
      user: who.name,
      admin: who.admin,
      serverId: row.id,
      next,
      ttlS: GRANT_TTL_S,
      binding,
      session: who.session.hash,
      ...(portHost ? { port: portHost } : {}),
    });
    if (code === undefined) {
      refused(
        row,
        who.name,
        'too_many_codes',
        `${who.name} holds too many unused access codes; refused another for ${row.user}/${row.name}`,
      );
      return page(
        ctx,
        429,
        'Too many open requests',
        `<p>You have ${deps.codes.maxOutstandingGrants} server logins in progress that were never completed. Wait a minute, then <a href="${escapeHtml(deps.urls.serverLink(row.user, row.name))}">open the server</a> again.</p>`,
      );
    }
    ctx.set('Cache-Control', 'no-store');
    if (embed) return handOver(ctx, code, deps.urls.serverOrigin(row.user, row.name));
    // In the host layout the code travels to the server's (or the port's) own origin, which sets its own cookie there.
    const origin = portHost
      ? deps.urls.portOrigin(row.user, row.name, portHost.port, portHost.kind)
      : deps.urls.hostLayout
        ? deps.urls.serverOrigin(row.user, row.name)
        : '';
    ctx.redirect(`${origin}${serverPrefix}${GRANT_PATH}?code=${encodeURIComponent(code)}`);
  });

  const internal = new Router();
  internal.post(
    '/internal/redeem-grant',
    bodyParser({ enableTypes: ['json'], jsonLimit: '4kb' }),
    async (ctx) => {
      const body = ctx.request.body as Partial<RedeemGrantRequest>;
      const row = proxyRow(deps, body.serverId, ctx.get('authorization'));
      // Bound to the server and the browser in the query itself: another server's proxy or another browser cannot even use up a code.
      const port =
        body.port === undefined
          ? undefined
          : parsePortRef(
              (body.port as Partial<PortRef> | null)?.port,
              (body.port as Partial<PortRef> | null)?.kind,
              'port.kind',
            );
      // A port's code redeems only on that port's host, a server's code never on a port's.
      const grant =
        typeof body.code === 'string' && typeof body.binding === 'string'
          ? deps.codes.useGrant(body.code, row.id, body.binding, port)
          : undefined;
      if (!grant)
        throw new HubappsError(
          'invalid_grant',
          'unknown, used, expired, foreign or unbound access code',
        );
      // Checked again at redemption: a share revoked in the code's 60 s lets nobody in.
      const via = await accessVia(deps, { name: grant.user, admin: grant.admin === 1 }, row);
      if (via === null)
        throw new HubappsError(
          'not_allowed',
          `${grant.user} may no longer use ${row.user}/${row.name}`,
        );
      if (via === 'share')
        deps.manager.audit(
          row,
          `${grant.user} opened ${row.user}/${row.name} as a visitor (shared)`,
          grant.user,
        );
      const answer: RedeemGrantResponse = {
        user: grant.user,
        admin: grant.admin === 1,
        shared: via === 'share',
        ttl: 0,
        next: grant.next ?? '',
        session: grant.session ?? '',
      };
      ctx.body = answer;
    },
  );
  return { pages, internal };
}

/** The port authorize was asked for (a port's own host adds &port=P&port_kind=K), or undefined; throws on a malformed one. */
function askedPort(query: Record<string, unknown>): PortRef | undefined {
  if (query.port === undefined && query.port_kind === undefined) return undefined;
  return parsePortRef(query.port, query.port_kind, 'port_kind', 'server', 'invalid_query');
}

/** Fetch metadata, where the browser sends it, must say "a page load in a tab". */
function topLevelNavigation(ctx: Context): boolean {
  const dest = ctx.get('sec-fetch-dest');
  const mode = ctx.get('sec-fetch-mode');
  return (dest === '' || dest === 'document') && (mode === '' || mode === 'navigate');
}
