/**
 * The proxy's side of per-server access grants: GET {prefix}_hubapps/grant?code=C. The
 * service's authorize page sent the browser here with a one-time code; the proxy redeems
 * it at the service over loopback with the server secret and the value of the browser's
 * grant cookie (the service binds each code to one server and to the hash of that cookie,
 * and lets it work once, for 60 s), then sets its own session cookie and sends the browser
 * on to where it wanted to go, if that is below this server's prefix. A code carried to
 * another browser lacks the cookie and is refused.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  GRANT_PATH,
  SERVICE_REDEEM_GRANT_PATH,
  type RedeemGrantRequest,
  type RedeemGrantResponse,
} from '../../protocol/wire.js';
import type { Access, PortScope, SignInEndpoint } from './gate.js';
import { sendPage, type PageOptions } from '../http/pages.js';
import { postToService, type ServiceAnswer } from './service-call.js';
import { targetBelow } from '../http/url-path.js';
import { describeError, log } from '../log.js';

export type GrantOutcome =
  | { kind: 'granted'; user: string; next: string; session: string }
  | { kind: 'refused' }
  | { kind: 'unavailable' };

export interface GrantOptions {
  serverId: number;
  /** The server's owner: grants for this user (or an admin) are honoured. */
  user: string;
  secret: string;
  serviceUrl: string;
  prefix: string;
  /** The server has its own origin: only then are visitors let in by a share honoured. */
  ownOrigin?: boolean;
}

/** The service makes 43 base64url characters; anything unlike a code is refused without asking. */
const CODE = /^[A-Za-z0-9_-]{16,128}$/;

export class Grants {
  /** The full path of the endpoint, e.g. /apps/alice/lab/_hubapps/grant */
  readonly path: string;
  readonly prefix: string;
  private readonly url: URL;

  constructor(private readonly opts: GrantOptions) {
    this.prefix = opts.prefix;
    this.path = opts.prefix + GRANT_PATH;
    this.url = new URL(SERVICE_REDEEM_GRANT_PATH, opts.serviceUrl);
  }

  /** Is this request URL (path and query) the grant endpoint? */
  matches(url: string): boolean {
    return (
      url.startsWith(this.path) &&
      (url.length === this.path.length || url.charCodeAt(this.path.length) === 63) /* ? */
    );
  }

  /** `port`: redeemed on that port's own host; the service checks the code was issued for it. */
  async redeem(code: string, binding: string, port?: PortScope): Promise<GrantOutcome> {
    if (!CODE.test(code) || !CODE.test(binding)) return { kind: 'refused' };
    let answer: ServiceAnswer;
    try {
      answer = await postToService(this.url, this.opts.secret, {
        serverId: this.opts.serverId,
        code,
        binding,
        ...(port === undefined ? {} : { port: { port: port.port, kind: port.kind } }),
      } satisfies RedeemGrantRequest);
    } catch (err) {
      log(`access code: service unreachable: ${describeError(err)}`);
      return { kind: 'unavailable' };
    }
    if (answer.status >= 400 && answer.status < 500) return { kind: 'refused' };
    const parsed = answer.status === 200 ? parseAnswer(answer.body) : null;
    if (!parsed) {
      log(`access code: unexpected answer from the service (HTTP ${answer.status})`);
      return { kind: 'unavailable' };
    }
    // The service checked the user when it issued the code; checked again here as for tokens.
    if (
      parsed.user !== this.opts.user &&
      !parsed.admin &&
      !(parsed.shared && this.opts.ownOrigin === true)
    ) {
      log(
        `access code: the service granted ${parsed.user}, who neither owns this server, nor is an admin, nor a visitor on its own origin: refused`,
      );
      return { kind: 'refused' };
    }
    return {
      kind: 'granted',
      user: parsed.user,
      next: targetBelow(parsed.next, this.prefix),
      session: parsed.session,
    };
  }
}

export interface GrantPageDeps {
  grants: Grants;
  access: Access;
  page: PageOptions;
  /** The grant endpoint of a port's own host. */
  port?: PortScope;
}

/** The grant endpoint as the listener sees it: one of the ways a browser signs in. */
export function grantEndpoint(grants: Grants, access: Access): SignInEndpoint {
  return {
    path: grants.path,
    matches: (url) => grants.matches(url),
    serve: (req, res, url, page, port) =>
      serveGrant(req, res, url, { grants, access, page, ...(port === undefined ? {} : { port }) }),
  };
}

/** Answer GET {prefix}_hubapps/grant?code=C: a cookie and a redirect, or a page that says what went wrong. */
export async function serveGrant(
  req: IncomingMessage,
  res: ServerResponse,
  url: string,
  deps: GrantPageDeps,
): Promise<void> {
  if (req.method !== 'GET') {
    return sendPage(req, res, 405, 'the access code endpoint only answers GET', {
      ...deps.page,
      headers: { allow: 'GET' },
    });
  }
  const q = url.indexOf('?');
  const code = q < 0 ? null : new URLSearchParams(url.slice(q + 1)).get('code');
  const framed = deps.access.framed(req);
  const grantCookie = deps.access.takeGrantCookie(req, framed);
  const outcome: GrantOutcome =
    code && grantCookie.value
      ? await deps.grants.redeem(code, grantCookie.value, deps.port)
      : { kind: 'refused' };
  if (outcome.kind === 'refused') {
    const message =
      'access code invalid, expired or made for another browser — reload the server to try again';
    return sendPage(req, res, 403, message, {
      ...deps.page,
      retry: deps.grants.prefix,
      headers: { 'set-cookie': grantCookie.clear },
    });
  }
  if (outcome.kind === 'unavailable') {
    return sendPage(
      req,
      res,
      503,
      'cannot check the access code right now: the hubapps service does not answer; try again shortly',
      deps.page,
    );
  }
  const what = deps.port === undefined ? '' : ` for port ${deps.port.port}`;
  log(`access granted to ${outcome.user}${what} by an access code`);
  const cookies = [
    deps.access.sessionCookie(outcome.session, outcome.user, framed, deps.port),
    grantCookie.clear,
  ];
  res.writeHead(302, {
    location: outcome.next,
    'set-cookie': cookies,
    'cache-control': 'no-store',
    'content-length': 0,
  });
  res.end();
}

function parseAnswer(text: string): RedeemGrantResponse | null {
  try {
    const v = JSON.parse(text) as Partial<RedeemGrantResponse>;
    if (
      typeof v.user !== 'string' ||
      typeof v.admin !== 'boolean' ||
      typeof v.next !== 'string' ||
      typeof v.session !== 'string'
    )
      return null;
    return {
      user: v.user,
      admin: v.admin,
      shared: v.shared === true,
      ttl: 0,
      next: v.next,
      session: v.session,
    };
  } catch {
    return null;
  }
}
