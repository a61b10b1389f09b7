import crypto from 'node:crypto';
import type { SessionRow } from '../store/auth.js';

/** Who is asking, and through what credential. */
export interface Identity {
  name: string;
  admin: boolean;
  via: 'admin_token' | 'token' | 'hub_token' | 'session';
  /** Set when the credential is a launcher session cookie (CSRF rules apply). */
  session?: SessionRow;
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
