/**
 * The names and attributes of the proxy's two cookies for one server: the session cookie
 * (set by a redeemed grant) and the grant cookie (set before authorize, brought back to the
 * grant endpoint). Each comes in two forms: the usual one, and one for a frame of another
 * site (app_embedding), which the browser keeps in the partition of that frame's top-level
 * site (CHIPS) and sends in that site's frames only.
 */
import { GRANT_NONCE_COOKIE, GRANT_PATH } from '../../protocol/wire.js';

export interface CookieOptions {
  serverId: number;
  prefix: string;
  /** Send the cookies with Secure (the public origin is https). */
  secureCookie: boolean;
  /** The server has its own origin: `__Host-` cookies (`Path=/; Secure`, no Domain). */
  hostCookie?: boolean;
}

export class AccessCookies {
  readonly sessionName: string;
  readonly grantName: string;
  private readonly session: Attributes;
  private readonly grant: Attributes;

  constructor(opts: CookieOptions) {
    const secure = opts.secureCookie ? '; Secure' : '';
    let session: string;
    let grant: string;
    if (opts.hostCookie) {
      this.sessionName = `__Host-hubapps-${opts.serverId}`;
      this.grantName = `__Host-${GRANT_NONCE_COOKIE}${opts.serverId}`;
      session = grant = '; Path=/; Secure; HttpOnly; SameSite=Lax';
    } else {
      this.sessionName = `hubapps-proxy-${opts.serverId}`;
      this.grantName = `${GRANT_NONCE_COOKIE}${opts.serverId}`;
      session = `; Path=${opts.prefix}; HttpOnly; SameSite=Lax${secure}`;
      grant = `; Path=${opts.prefix}${GRANT_PATH}; HttpOnly; SameSite=Lax${secure}`;
    }
    this.session = { usual: session, framed: partitioned(session) };
    this.grant = { usual: grant, framed: partitioned(grant) };
  }

  /** `; Path=…; HttpOnly; …` for the session cookie. */
  sessionAttributes(framed: boolean): string {
    return framed ? this.session.framed : this.session.usual;
  }

  grantAttributes(framed: boolean): string {
    return framed ? this.grant.framed : this.grant.usual;
  }
}

interface Attributes {
  usual: string;
  framed: string;
}

/** Sent in a cross-site frame (SameSite=None), kept in the partition of the frame's top-level site. */
function partitioned(attributes: string): string {
  const rest = attributes.replace(/; SameSite=Lax/, '').replace(/; Secure/, '');
  return `${rest}; Secure; SameSite=None; Partitioned`;
}
