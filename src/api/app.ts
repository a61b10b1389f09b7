import crypto from 'node:crypto';
import Koa from 'koa';
import Router from '@koa/router';
import type { ApiDeps } from './deps.js';
import { activityRoutes } from './activity.js';
import { adminRoutes } from './admin.js';
import type { HubOAuth } from '../auth/oauth.js';
import { errorMiddleware } from './errors.js';
import { grantRoutes } from './grants.js';
import { loginRoutes } from './login.js';
import { tokenRoutes } from './tokens.js';
import { infoRoutes } from './info.js';
import { internalOnlyDirect, internalRoutes } from './internal.js';
import { appsHostPage, notRunningPage } from './not-running.js';
import { serverRoutes } from './servers.js';
import { hubSpawnerRoutes } from './hub-spawner.js';
import { shareLinkRoutes } from './share-links.js';
import { shareRoutes } from './shares.js';
import { portRoutes } from './ports.js';
import { launcherUi } from './ui.js';

/**
 * No page of the service may be framed (clickjacking the launcher, or reading it from a
 * frame on the shared origin), and its pages open in their own browsing context group, so
 * a page of some user's app that opened them in a window gets no handle to script them.
 */
async function isolation(ctx: Koa.Context, next: Koa.Next): Promise<void> {
  await next();
  if (!ctx.response.get('Content-Security-Policy'))
    ctx.set('Content-Security-Policy', "frame-ancestors 'none'");
  ctx.set('X-Frame-Options', 'DENY');
  // Only the popup sign-in of a framed server keeps its opener (api/embed-sign-in.ts).
  ctx.set(
    'Cross-Origin-Opener-Policy',
    ctx.state.keepOpener === true ? 'unsafe-none' : 'noopener-allow-popups',
  );
}

/** The service's HTTP app: the REST API under {service_prefix}api/, and the catch-all for servers that are not running. */
export function createApp(deps: ApiDeps, oauth: HubOAuth | undefined): Koa {
  const app = new Koa({ proxy: false });
  app.use(async (ctx, next) => {
    const reqId = crypto.randomBytes(6).toString('hex');
    ctx.state.reqId = reqId;
    ctx.set('X-Request-Id', reqId);
    const t0 = performance.now();
    await next();
    deps.log.debug(
      {
        reqId: ctx.state.reqId,
        method: ctx.method,
        path: ctx.path,
        status: ctx.status,
        ms: +(performance.now() - t0).toFixed(1),
      },
      'request',
    );
  });
  app.use(isolation);
  app.use(errorMiddleware(deps.log));
  app.use(async (ctx, next) => {
    if (deps.urls.onAppsDomain(ctx.get('host'))) return appsHostPage(deps, ctx);
    return next();
  });
  app.use(launcherUi(deps));
  app.use(internalOnlyDirect(`${deps.urls.servicePrefix()}api/internal/`));

  const admin = adminRoutes(deps);
  const grants = grantRoutes(deps);
  const links = shareLinkRoutes(deps);
  const api = new Router({ prefix: `${deps.urls.servicePrefix()}api` });
  for (const r of [
    infoRoutes(deps),
    serverRoutes(deps),
    hubSpawnerRoutes(deps),
    activityRoutes(deps),
    shareRoutes(deps),
    portRoutes(deps),
    links.api,
    tokenRoutes(deps),
    internalRoutes(deps),
    grants.internal,
    admin.api,
  ]) {
    api.use(r.routes(), r.allowedMethods());
  }
  app.use(api.routes());
  app.use(api.allowedMethods());
  const service = new Router({ prefix: deps.urls.servicePrefix().slice(0, -1) });
  for (const r of [admin.metrics, grants.pages, links.pages, loginRoutes(deps, oauth)])
    service.use(r.routes());
  app.use(service.routes());

  const catchall = deps.urls.catchallRoute();
  app.use(async (ctx, next) => {
    if (ctx.path === catchall || ctx.path.startsWith(`${catchall}/`))
      return notRunningPage(deps, ctx);
    return next();
  });
  return app;
}
