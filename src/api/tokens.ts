import Router, { type RouterContext } from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import { safeNext } from '../auth/redirects.js';
import type { Identity } from '../auth/identity.js';
import { HubappsError } from '../errors.js';
import { checkUserName } from '../names.js';
import type { TokenRow } from '../model/auth.js';
import { objectBody, requireJson } from './body.js';
import type { ApiDeps } from './deps.js';
import { adminOnly, signedIn, whoOf } from './guards.js';

const MAX_TOKEN_AGE_S = 366 * 24 * 3600;
const MAX_LINK_AGE_S = 600;

/**
 * API tokens (a user's own; shown once, stored hashed) and single-use login links. Both are
 * credentials that act as their user, so only that user handles them. Admin users act on
 * other users' tokens and mint login links for them only with admin_access on, and the
 * config's admin_token (the operator's credential, readable only by root) always may; every
 * act on another user's credentials is written to the audit trail.
 */
export function tokenRoutes(deps: ApiDeps): Router {
  const router = new Router();
  const json = bodyParser({ enableTypes: ['json'], jsonLimit: '4kb' });
  const guards = { admin: adminOnly(deps), any: signedIn(deps) };
  const gate = (admin: boolean) => async (ctx: RouterContext, next: () => Promise<unknown>) => {
    checkUserName(ctx.params.user!);
    return (admin ? guards.admin : guards.any)(ctx, async () => {
      mayHandleCredentials(whoOf(ctx), ctx.params.user!, deps.config.admin_access);
      requireJson(ctx);
      return next();
    });
  };
  const onBehalf = (ctx: RouterContext, what: string) => {
    const who = whoOf(ctx);
    if (who.name !== ctx.params.user)
      deps.manager.audit(null, `${what} (for ${ctx.params.user}, by ${who.name})`, who.name);
  };

  router.post('/users/:user/tokens', gate(false), json, async (ctx) => {
    const body = objectBody(ctx.request.body, ['note', 'expires_in']);
    // Stored tokens must belong to someone who may use hubapps; the admin_token could otherwise mint them for root.
    await deps.users.check(ctx.params.user!);
    const note = optionalString(body.note, 'note', 200) ?? '';
    const expiresIn = optionalSeconds(body.expires_in, 'expires_in', MAX_TOKEN_AGE_S);
    const { token, row } = deps.tokens.createToken(
      ctx.params.user!,
      note,
      expiresIn,
      deps.config.limits.tokens_per_user,
    );
    deps.manager.audit(null, `API token ${row.prefix}… created for ${row.user}`, whoOf(ctx).name);
    ctx.status = 201;
    ctx.body = { ...presentToken(row), token };
  });

  router.get('/users/:user/tokens', gate(false), (ctx) => {
    onBehalf(ctx, 'API tokens listed');
    ctx.body = { tokens: deps.tokens.tokens(ctx.params.user!).map(presentToken) };
  });

  router.delete('/users/:user/tokens/:id', gate(false), (ctx) => {
    const id = Number(ctx.params.id);
    if (!Number.isInteger(id) || !deps.tokens.deleteToken(ctx.params.user!, id))
      throw new HubappsError('no_such_token', `${ctx.params.user} has no token ${ctx.params.id}`);
    onBehalf(ctx, `API token ${id} deleted`);
    ctx.status = 204;
  });

  router.post('/users/:user/login-links', gate(true), json, async (ctx) => {
    const body = objectBody(ctx.request.body, ['expires_in', 'next']);
    const ttl = optionalSeconds(body.expires_in, 'expires_in', MAX_LINK_AGE_S) ?? 120;
    const next = safeNext(body.next, deps.urls.servicePrefix());
    const user = ctx.params.user!;
    await deps.users.check(user);
    const code = deps.codes.createCode({
      kind: 'login',
      user,
      admin: await deps.admins.isAdmin(user),
      next,
      ttlS: ttl,
    });
    deps.manager.audit(null, `login link minted for ${user}`, whoOf(ctx).name);
    ctx.status = 201;
    ctx.body = {
      url: `${deps.urls.launcherUrl()}login-link?code=${code}`,
      expires_at: new Date(Date.now() + ttl * 1000).toISOString(),
    };
  });
  return router;
}

/** The owner, the operator's admin_token, or an admin user when admin_access is on; otherwise 403. */
function mayHandleCredentials(who: Identity, user: string, adminAccess: boolean): void {
  if (who.via === 'admin_token' || who.name === user || (who.admin && adminAccess)) return;
  throw new HubappsError(
    'not_owner',
    who.admin
      ? `${who.name} may not handle the API tokens or login links of ${user}: admins may do so only when admin_access is on`
      : `${who.name} may not handle the API tokens or login links of ${user}: only ${user} may`,
  );
}

function presentToken(row: TokenRow) {
  return {
    id: row.id,
    user: row.user,
    note: row.note,
    prefix: row.prefix,
    created: row.created_at,
    expires_at: row.expires_at,
    last_used: row.last_used,
  };
}

function optionalString(v: unknown, key: string, max: number): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.length > max)
    throw new HubappsError(
      'invalid_body',
      `"${key}" must be a string of at most ${max} characters`,
    );
  return v;
}

function optionalSeconds(v: unknown, key: string, max: number): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max)
    throw new HubappsError(
      'invalid_body',
      `"${key}" must be a whole number of seconds from 1 to ${max}`,
    );
  return v;
}
