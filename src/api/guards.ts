/**
 * Router middleware that decides who may call a route, before its handler runs (as
 * @koa/router and hono do it): each sets `ctx.state.who` to the caller's identity, and a
 * handler reads it with `whoOf(ctx)` rather than authenticating again. `ctx.state` is typed
 * in state.ts.
 */
import type { Context, Next } from 'koa';
import type { Identity } from '../auth/identity.js';
import type { ApiDeps } from './deps.js';

export type Guard = (ctx: Context, next: Next) => Promise<unknown>;

function guard(
  deps: Pick<ApiDeps, 'auth'>,
  rule: (ctx: Context) => { owner?: string; admin?: boolean },
): Guard {
  return async (ctx, next) => {
    ctx.state.who = await deps.auth.require(ctx, rule(ctx));
    return next();
  };
}

/** Any logged-in caller (a session, an API token, a hub token with the service's scope, admin_token). */
export const signedIn = (deps: Pick<ApiDeps, 'auth'>): Guard => guard(deps, () => ({}));

/** Admins only. */
export const adminOnly = (deps: Pick<ApiDeps, 'auth'>): Guard =>
  guard(deps, () => ({ admin: true }));

/** The user the route's `:user` names, or an admin. */
export const ownerOrAdmin = (deps: Pick<ApiDeps, 'auth'>): Guard =>
  guard(deps, (ctx) => ({
    owner: (ctx as Context & { params: Record<string, string> }).params.user,
  }));

/** The identity a guard of this route established; a route without a guard is a bug, and fails loudly. */
export function whoOf(ctx: Context): Identity {
  const who = ctx.state.who;
  if (!who) throw new Error(`no guard set the caller's identity on ${ctx.method} ${ctx.path}`);
  return who;
}
