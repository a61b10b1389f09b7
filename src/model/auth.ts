import type { PortKind } from '../port-label.js';

/** Rows of the auth tables: browser sessions, API tokens and single-use codes (secrets only as hashes). */
export interface SessionRow {
  hash: string;
  user: string;
  admin: number;
  xsrf: string;
  created_at: string;
  expires_at: string;
  last_seen: string;
  /** 1 when the admin right came from JupyterHub's admin flag at login. */
  hub_admin: number;
}

export interface TokenRow {
  id: number;
  hash: string;
  user: string;
  note: string;
  prefix: string;
  created_at: string;
  expires_at: string | null;
  last_used: string | null;
}

export interface CodeRow {
  hash: string;
  kind: 'grant' | 'login';
  user: string;
  admin: number;
  server_id: number | null;
  next: string | null;
  created_at: string;
  expires_at: string;
  used_at: string | null;
  /** Grants: SHA-256 (base64url) of the grant cookie of the browser that asked. */
  binding: string | null;
  /** Grants: the hash of the launcher session that granted the code. */
  session: string | null;
  /** Grants for a port's own host: the port and its kind (both null for a server's code). */
  port: number | null;
  port_kind: PortKind | null;
}

/** A user's own port of a server (docs/apps.md, "Your own ports"). */
export interface PortRef {
  port: number;
  kind: PortKind;
}
