import crypto from 'node:crypto';
import type { Context } from 'koa';
import { HubappsError } from '../errors.js';

/** Who is asking. */
export interface Identity {
  name: string;
  admin: boolean;
  via: 'admin_token';
}

/** Constant-time comparison of two secrets of any length. */
export function sameSecret(a: string, b: string): boolean {
  const ha = crypto.createHash('sha256').update(a).digest();
  const hb = crypto.createHash('sha256').update(b).digest();
  return crypto.timingSafeEqual(ha, hb);
}

/** `Authorization: token T` or `Bearer T`. */
export function bearer(header: string | undefined): string | undefined {
  const m = /^(?:token|bearer)\s+(\S+)$/i.exec(header ?? '');
  return m?.[1];
}

/**
 * Turns a credential into an Identity. For now the only credential is the admin token
 * from the config; user tokens and JupyterHub login plug in here.
 */
export class Authenticator {
  constructor(private readonly adminToken: string | undefined) {}

  identify(token: string | undefined): Identity | undefined {
    if (!token) return undefined;
    if (this.adminToken && sameSecret(token, this.adminToken)) return { name: 'admin', admin: true, via: 'admin_token' };
    return undefined;
  }

  /** The caller's identity, or 401; with `owner`, also 403 unless the caller is that user or an admin. */
  require(ctx: Context, opts: { owner?: string; admin?: boolean } = {}): Identity {
    const who = this.identify(bearer(ctx.get('authorization')));
    if (!who) {
      ctx.set('WWW-Authenticate', 'token');
      throw new HubappsError('unauthenticated', 401, 'authentication required: send "Authorization: token <API token>"');
    }
    if (opts.admin && !who.admin) throw new HubappsError('admin_only', 403, 'this needs an admin');
    if (opts.owner !== undefined && !who.admin && who.name !== opts.owner) {
      throw new HubappsError('not_owner', 403, `${who.name} may not act for ${opts.owner}`);
    }
    return who;
  }
}
