/**
 * Router middleware that decides who may call a route, before its handler runs (as
 * @koa/router and hono do it): each sets `ctx.state.who` to the caller's identity, and a
 * handler reads it with `whoOf(ctx)` rather than authenticating again. `ctx.state` is typed
 * in state.ts.
 */
import type { Context, Next } from 'koa';
import type { Identity, ServerTokenRule } from '../auth/identity.js';
import { HubappsError } from '../errors.js';
import type { ApiDeps } from './deps.js';

export type Guard = (ctx: Context, next: Next) => Promise<unknown>;

function guard(
  deps: Pick<ApiDeps, 'auth'>,
  rule: (ctx: Context) => { owner?: string; admin?: boolean; serverToken?: ServerTokenRule },
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

/**
 * The user the route's `:user` names, or an admin. With `servers`, also a server token
 * (docs/api.md, "Server tokens"): of the server the route's `:name` names ('server'), or of
 * any server of `:user` ('user', for a route whose body names the servers); without, none.
 */
export const ownerOrAdmin = (deps: Pick<ApiDeps, 'auth'>, servers?: 'server' | 'user'): Guard =>
  guard(deps, (ctx) => {
    const { user, name } = (ctx as Context & { params: Record<string, string> }).params;
    if (!servers) return { owner: user };
    const ofUser = user ?? '';
    return {
      owner: user,
      serverToken: servers === 'server' ? { user: ofUser, name: name ?? '' } : { user: ofUser },
    };
  });

/** Any logged-in caller, and any server token: for "who am I". */
export const signedInOrServer = (deps: Pick<ApiDeps, 'auth'>): Guard =>
  guard(deps, () => ({ serverToken: 'any' }));

/**
 * JupyterHub's HubappsSpawner and nothing else (api/hub/): its token, while
 * jupyterhub.spawner_token is set; without it the routes are not there (404).
 */
export const spawnerOnly =
  (deps: Pick<ApiDeps, 'auth' | 'config'>): Guard =>
  async (ctx, next) => {
    if (deps.config.jupyterhub.spawner_token === undefined)
      throw new HubappsError(
        'spawner_off',
        'the spawner API is off: set jupyterhub.spawner_token to use HubappsSpawner',
      );
    ctx.state.who = await deps.auth.require(ctx, { spawner: true });
    return next();
  };

/** The identity a guard of this route established; a route without a guard is a bug, and fails loudly. */
export function whoOf(ctx: Context): Identity {
  const who = ctx.state.who;
  if (!who) throw new Error(`no guard set the caller's identity on ${ctx.method} ${ctx.path}`);
  return who;
}
