/**
 * What the API's middleware leaves on `ctx.state` for the middleware after it, typed once
 * for every Koa context of the service (Koa's DefaultState is open for this).
 */
import type { Identity } from '../auth/identity.js';

declare module 'koa' {
  interface DefaultState {
    /** The caller, set by the route's guard (guards.ts); read with whoOf(ctx). */
    who?: Identity;
    /** The request's id (app.ts): in its log lines and its X-Request-Id header. */
    reqId?: string;
  }
}
