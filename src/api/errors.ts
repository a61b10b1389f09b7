import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import { HubappsError, type ErrorCode } from '../errors.js';
import { printable } from '../names.js';

/**
 * The one place errors become HTTP answers: `{status, message, code}` as JSON, `code` one
 * of src/error-codes.ts (docs/api.md lists them). A HubappsError keeps its status, its code
 * and, when exposable, its message; errors from Koa's own stack (body
 * too large, bad JSON) carry `status` and `expose` too; anything else is a logged 500 with
 * a generic message, so no stack trace or secret reaches a client.
 */
export function errorMiddleware(log: Logger) {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        throw new HubappsError(
          'not_found',
          `no such endpoint: ${ctx.method} ${ctx.path.slice(0, 200)}`,
        );
      }
      // The router's own answers for a path it knows under another method (405) or a method no route has (501).
      if ((ctx.status === 405 || ctx.status === 501) && ctx.body === undefined) {
        const allow = ctx.response.get('Allow');
        throw new HubappsError(
          'method_not_allowed',
          `${printable(ctx.method)} is not allowed on ${ctx.path.slice(0, 200)}${allow ? `; allowed: ${allow}` : ''}`,
        );
      }
    } catch (err) {
      const { status, message, code } = describe(err);
      if (status >= 500) log.error({ err, reqId: ctx.state.reqId, code }, message);
      else log.info({ reqId: ctx.state.reqId, code, status }, message);
      ctx.status = status;
      // The body parser stops reading at its limit and leaves the request paused: unread, the rest of
      // the body stalls the sender (CHP, which then never relays this answer). It is read and dropped,
      // as Node does for bodies nobody read; closing instead would reset CHP's upload and turn the 413 into its 503.
      if (status === 413 && !ctx.req.complete) ctx.req.resume();
      ctx.type = 'application/json';
      ctx.body = { status, message, code };
    }
  };
}

function describe(err: unknown): { status: number; message: string; code: ErrorCode } {
  if (err instanceof HubappsError) {
    return {
      status: err.status,
      code: err.code,
      message: err.expose ? err.message : 'internal error; see the service log',
    };
  }
  const e = err as {
    status?: unknown;
    statusCode?: unknown;
    expose?: unknown;
    message?: unknown;
    type?: unknown;
  };
  const status = Number(e.status ?? e.statusCode);
  if (status >= 400 && status < 500 && e.expose !== false) {
    return {
      status,
      code: koaCode(status),
      message: friendly(status, String(e.message ?? 'bad request')),
    };
  }
  return { status: 500, code: 'internal', message: 'internal error; see the service log' };
}

/** Koa's and the body parser's own errors, by status, as one of our codes. */
function koaCode(status: number): ErrorCode {
  if (status === 413) return 'body_too_large';
  if (status === 415) return 'unsupported_media_type';
  if (status === 404) return 'not_found';
  if (status === 405) return 'method_not_allowed';
  return 'bad_request';
}

function friendly(status: number, message: string): string {
  if (status === 413) return 'request body too large';
  if (status === 400 && /json|unexpected|parse/i.test(message))
    return 'the request body is not valid JSON';
  return message;
}
