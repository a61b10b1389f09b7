import Router, { type RouterContext } from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import { HubappsError } from '../errors.js';
import { printable } from '../names.js';
import { requestSource } from '../http/request-source.js';
import type { ShareLinkRow } from '../model/share.js';
import type { Account } from '../users/account.js';
import { objectBody } from './body.js';
import { namedServer, ownerOnly, sharingRefusal, shareCreator } from './server-access.js';
import type { ApiDeps } from './deps.js';
import { whoOf } from './guards.js';
import { escapeHtml } from '../http/html.js';
import { page } from './pages.js';

const MAX_USES = 100;
const MAX_AGE_S = 7 * 24 * 3600;
const DEFAULT_AGE_S = 24 * 3600;

/**
 * Share links: the owner (alone; admins list and revoke) mints a link good for `uses` redemptions until it expires; an
 * allowed user who opens it while logged in, and presses the button on its page, gets a
 * share of the server (revocable like any other). Revoking the link stops further use.
 */
export function shareLinkRoutes(deps: ApiDeps): { api: Router; pages: Router } {
  const api = new Router();
  const json = bodyParser({ enableTypes: ['json'], jsonLimit: '4kb' });
  const owner = ownerOnly(deps);
  const server = (ctx: RouterContext) => namedServer(deps, ctx);
  const linkUrl = (code: string) =>
    `${deps.urls.launcherUrl()}share-link?code=${encodeURIComponent(code)}`;

  api.post('/users/:user/servers/:name/share-links', owner, json, async (ctx) => {
    const row = server(ctx);
    const who = shareCreator(ctx, row);
    const refusal = sharingRefusal(deps, row);
    if (refusal) throw refusal;
    const body = objectBody(ctx.request.body ?? {}, ['uses', 'expires_in']);
    const uses = whole(body.uses, 'uses', 1, MAX_USES, 1);
    const ttl = whole(body.expires_in, 'expires_in', 60, MAX_AGE_S, DEFAULT_AGE_S);
    const { code, link } = deps.shares.addLink(row, uses, ttl, who.name);
    ctx.status = 201;
    ctx.body = { ...presentLink(link), url: linkUrl(code) };
  });

  api.get('/users/:user/servers/:name/share-links', owner, (ctx) => {
    ctx.body = { links: deps.shares.links(server(ctx).id).map(presentLink) };
  });

  api.delete('/users/:user/servers/:name/share-links/:id', owner, async (ctx) => {
    const row = server(ctx);
    const link = deps.shares.link(Number(ctx.params.id));
    if (!link || link.server_id !== row.id)
      throw new HubappsError(
        'no_such_link',
        `${row.user}/${row.name} has no share link ${printable(ctx.params.id!)}`,
      );
    deps.shares.removeLink(row, link, whoOf(ctx).name);
    ctx.status = 204;
  });

  const pages = new Router();
  const prefix = deps.urls.servicePrefix();
  const origins = deps.urls.siteOrigins;
  // Opening the link only shows a button: a prefetch, a frame or a script cannot use up a use.
  pages.get('/share-link', (ctx) => {
    const code = typeof ctx.query.code === 'string' ? ctx.query.code : '';
    page(
      ctx,
      200,
      'Shared server',
      `<p>Someone shared one of their servers with you through this link. Press the button to add it to "Shared with me" in your launcher and open it.</p>
<form method="post" action="${escapeHtml(prefix)}share-link"><input type="hidden" name="code" value="${escapeHtml(code)}"><button type="submit">Accept and open</button></form>`,
    );
  });

  pages.post(
    '/share-link',
    bodyParser({ enableTypes: ['form'], formLimit: '4kb' }),
    async (ctx) => {
      if (requestSource(ctx.req, prefix, origins) === 'foreign') {
        return page(
          ctx,
          403,
          'Refused',
          '<p>Share links work only from their own page. Open the link itself.</p>',
        );
      }
      const body = ctx.request.body as Record<string, unknown> | undefined;
      const code = typeof body?.code === 'string' ? body.code : '';
      const who = await deps.auth.identify(ctx);
      if (!who?.session)
        return ctx.redirect(
          `${prefix}login?next=${encodeURIComponent(`${prefix}share-link?code=${encodeURIComponent(code)}`)}`,
        );
      const gone = () =>
        page(
          ctx,
          400,
          'Link expired',
          '<p>This share link has expired, was used up or was revoked. Ask its owner for a new one.</p>',
        );
      const link = code ? deps.shares.linkByCode(code) : undefined;
      const row = link ? deps.queries.byId(link.server_id) : undefined;
      if (!link || !row) return gone();
      const refusal = sharingRefusal(deps, row);
      if (refusal)
        return page(ctx, refusal.status, 'Not shareable', `<p>${escapeHtml(refusal.message)}</p>`);
      if (who.name !== row.user) {
        let account: Account;
        try {
          account = await deps.users.check(who.name);
        } catch (err) {
          if (err instanceof HubappsError && err.status < 500)
            return page(ctx, 403, 'Not allowed', `<p>${escapeHtml(err.message)}</p>`);
          throw err;
        }
        const app = deps.catalog().get(row.app);
        if (!app || !deps.users.appAllowed(account, app)) {
          return page(
            ctx,
            403,
            'Not allowed',
            `<p>The app of this server, ${escapeHtml(row.app)}, is limited to other groups (its allowed_groups), so it cannot be shared with you.</p>`,
          );
        }
        if (!deps.shares.redeemLink(code, row, who.name)) return gone();
      }
      ctx.redirect(deps.urls.serverLink(row.user, row.name));
    },
  );
  return { api, pages };
}

function whole(v: unknown, key: string, min: number, max: number, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    throw new HubappsError('invalid_body', `"${key}" must be a whole number from ${min} to ${max}`);
  return v;
}

function presentLink(l: ShareLinkRow) {
  return {
    id: l.id,
    uses: l.uses,
    uses_left: l.uses_left,
    created_by: l.created_by,
    created_at: l.created_at,
    expires_at: l.expires_at,
  };
}
