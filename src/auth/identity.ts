import crypto from 'node:crypto';
import type { ServerTokenOwner, SessionRow } from '../store/auth.js';

/** Who is asking, and through what credential. */
export interface Identity {
  name: string;
  admin: boolean;
  /** `hub_spawner`: JupyterHub's HubappsSpawner (jupyterhub.spawner_token), accepted on api/hub/ alone. */
  via: 'admin_token' | 'token' | 'hub_token' | 'session' | 'server_token' | 'hub_spawner';
  /** Set when the credential is a launcher session cookie (CSRF rules apply). */
  session?: SessionRow;
  /** Set when the credential is a server's own token: it acts for that server alone, never as an admin. */
  server?: ServerTokenOwner;
}

/** Which server tokens a route accepts: any, those of `user`'s servers, or of the one named `name`. */
export type ServerTokenRule = 'any' | { user: string; name?: string };

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
