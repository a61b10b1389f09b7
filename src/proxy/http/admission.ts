/**
 * The checks every request for the app (or one of the user's ports) passes, in one order
 * for plain requests and WebSocket upgrades alike: a sound path; then where the request
 * comes from (for an upgrade also its Origin header); then the credentials. A new check
 * goes here, once.
 */
import type { IncomingMessage } from 'node:http';
import type { AccessGate, Decision, PortScope } from '../access/gate.js';
import type { OriginPolicy } from './origin.js';
import { checkPath } from './url-path.js';
import { crossSiteFrameLoad, requestSource } from '../../http/request-source.js';
import { log } from '../log.js';

/** What the checks before the credentials decide: a bad path or a foreign source (400, 403), or the credential check's own decision. */
export type Admission = Decision | { ok: false; status: 400 | 403; message: string };

export interface AdmissionContext {
  access: AccessGate;
  /** The origins that are this address: the server's (shared or own), or a port host's own. */
  origins: OriginPolicy;
  /** The path whose pages count as ours (the server's prefix; '/' on an own host). */
  own: string;
  /** Other sites that may frame the server (config app_embedding.allow). */
  embedders: readonly string[];
  /** A port's own host: its sessions and its authorize link are that port's. */
  port?: PortScope;
  /** A cross-site request from an origin the admin allowed for this port (ports/cors.ts): its source is not held against it. */
  corsAllowed?: boolean;
}

export function admit(
  req: IncomingMessage,
  url: string,
  upgrade: boolean,
  ctx: AdmissionContext,
): Admission | Promise<Admission> {
  const path = checkPath(url);
  if (path !== 'ok')
    return {
      ok: false,
      status: 400,
      message:
        path === 'dotdot'
          ? "paths with '..' segments are refused"
          : 'the path is not valid percent-encoding',
    };
  if (upgrade && (!ctx.origins.accepts(req.headers.origin) || foreign(req, true, ctx))) {
    log(`refused a websocket from origin ${JSON.stringify(req.headers.origin).slice(0, 200)}`);
    return {
      ok: false,
      status: 403,
      message: `this origin may not open websockets to this ${ctx.port ? 'port' : 'server'}`,
    };
  }
  if (!upgrade && ctx.corsAllowed !== true && foreign(req, false, ctx)) {
    log(
      `refused a ${req.method} request for ${url.slice(0, 200)} from a page outside this server (referer ${JSON.stringify(req.headers.referer ?? null).slice(0, 200)})`,
    );
    return {
      ok: false,
      status: 403,
      message:
        'refused: this request comes from a page outside this server (another app or site may not use or frame it)',
    };
  }
  return ctx.access.authorize(req, upgrade, ctx.port);
}

/**
 * Sub-requests, frames, form posts and upgrades from pages outside `own`
 * (http/request-source.ts). With embedding sites configured, a page load into another
 * site's frame is let on to the credential check: it carries only cookies partitioned to
 * that frame's top-level site, and frame-ancestors keeps the answer out of any other site.
 */
function foreign(req: IncomingMessage, upgrade: boolean, ctx: AdmissionContext): boolean {
  if (requestSource(req, ctx.own, ctx.origins.allowed, upgrade) !== 'foreign') return false;
  return !(!upgrade && ctx.embedders.length > 0 && crossSiteFrameLoad(req));
}

/** Go on with a value that may arrive now or later; the checks answer synchronously when no service call is needed. */
export function settle<T>(
  value: T | Promise<T>,
  then: (v: T) => void,
  fail: (err: unknown) => void,
): void {
  if (value instanceof Promise) value.then(then, fail);
  else then(value);
}
