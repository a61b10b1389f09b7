import type { Db } from './db.js';
import { sqlStateList, TOKEN_STATES } from './servers.js';

/** A token JupyterHub issued for a server (jupyterhub.server_tokens_from_hub). */
export interface HubTokenRow {
  /** The hub's id for it, e.g. "a42": what DELETE /users/NAME/tokens/ID takes. */
  token_id: string;
  /** Its owner's name at the hub (jupyterhub.usernames), fixed when it was issued. */
  hub_user: string;
  created_at: string;
  expires_at: string;
}

/**
 * The tokens hubapps had JupyterHub issue. A token is recorded in the same transaction that
 * makes it its server's token, and stays recorded until the hub has deleted it: whatever
 * ended the server, a token no active server holds is an orphan, and orphans are what gets
 * deleted at the hub. Nothing about it lives only in memory, so a restart forgets none.
 */
export class HubTokenStore {
  constructor(private readonly db: Db) {}

  /** The server's token is now `hash`, issued by the hub as `token`; any earlier one becomes an orphan. */
  hold(serverId: number, hash: string, token: Omit<HubTokenRow, 'created_at'>): void {
    this.db.transaction(() => {
      this.db
        .prepare(
          'INSERT INTO hub_tokens (token_id, hub_user, created_at, expires_at) VALUES (?, ?, ?, ?)',
        )
        .run(token.token_id, token.hub_user, new Date().toISOString(), token.expires_at);
      this.db
        .prepare('UPDATE servers SET api_token_hash = ?, hub_token_id = ? WHERE id = ?')
        .run(hash, token.token_id, serverId);
    })();
  }

  /** Tokens no pending, starting or running server holds: each must be deleted at the hub. */
  orphans(): HubTokenRow[] {
    return this.db
      .prepare(
        `SELECT * FROM hub_tokens t WHERE NOT EXISTS (SELECT 1 FROM servers s WHERE s.hub_token_id = t.token_id
         AND s.state IN ${sqlStateList(TOKEN_STATES)}) ORDER BY created_at`,
      )
      .all() as HubTokenRow[];
  }

  /** The hub has deleted the token, or it has expired there: nothing is left to do for it. */
  forget(tokenId: string): void {
    this.db.prepare('DELETE FROM hub_tokens WHERE token_id = ?').run(tokenId);
  }
}
