import { HubappsError } from '../errors.js';
import type { CodeRow, PortRef, SessionRow, TokenRow } from '../model/auth.js';
import { hashSecret, newSecret } from '../secret-hash.js';
import type { Db } from './db.js';
import { sqlStateList, TOKEN_STATES } from './servers.js';

export type { CodeRow, SessionRow, TokenRow } from '../model/auth.js';

/** The server a server token belongs to. */
export interface ServerTokenOwner {
  id: number;
  user: string;
  name: string;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The statements AuthStore runs on every request, prepared once. */
function hotStatements(db: Db) {
  return {
    session: db.prepare('SELECT * FROM sessions WHERE hash = ? AND expires_at > ?'),
    touchSession: db.prepare('UPDATE sessions SET last_seen = ? WHERE hash = ?'),
    token: db.prepare(
      'SELECT * FROM tokens WHERE hash = ? AND (expires_at IS NULL OR expires_at > ?)',
    ),
    touchToken: db.prepare('UPDATE tokens SET last_used = ? WHERE id = ?'),
    serverToken: db.prepare(
      `SELECT id, user, name FROM servers WHERE api_token_hash = ? AND state IN ${sqlStateList(TOKEN_STATES)}`,
    ),
    useCode: db.prepare(
      'UPDATE codes SET used_at = ? WHERE hash = ? AND kind = ? AND used_at IS NULL AND expires_at > ? RETURNING *',
    ),
    useGrant: db.prepare(
      "UPDATE codes SET used_at = ? WHERE hash = ? AND kind = 'grant' AND server_id = ? AND binding = ? AND port IS ? AND port_kind IS ? AND used_at IS NULL AND expires_at > ? RETURNING *",
    ),
    outstandingGrants: db
      .prepare(
        "SELECT count(*) FROM codes WHERE user = ? AND kind = 'grant' AND used_at IS NULL AND expires_at > ?",
      )
      .pluck(),
  };
}

/** Sessions, API tokens, single-use codes and OAuth states. */
export class AuthStore {
  /** Most unredeemed, unexpired access codes one user may hold at once (fixed; docs/security.md lists it). */
  readonly maxOutstandingGrants = 20;
  private readonly stmts: ReturnType<typeof hotStatements>;

  constructor(private readonly db: Db) {
    this.stmts = hotStatements(db);
  }

  createSession(
    user: string,
    admin: boolean,
    maxAgeS: number,
    hubAdmin = false,
  ): { cookie: string; row: SessionRow } {
    const cookie = newSecret();
    const now = Date.now();
    const row: SessionRow = {
      hash: hashSecret(cookie),
      user,
      admin: admin ? 1 : 0,
      xsrf: newSecret(16),
      created_at: iso(now),
      expires_at: iso(now + maxAgeS * 1000),
      last_seen: iso(now),
      hub_admin: hubAdmin ? 1 : 0,
    };
    this.db
      .prepare(
        'INSERT INTO sessions (hash, user, admin, xsrf, created_at, expires_at, last_seen, hub_admin) VALUES (@hash, @user, @admin, @xsrf, @created_at, @expires_at, @last_seen, @hub_admin)',
      )
      .run(row);
    return { cookie, row };
  }

  session(cookie: string): SessionRow | undefined {
    const hash = hashSecret(cookie);
    const row = this.stmts.session.get(hash, iso(Date.now())) as SessionRow | undefined;
    if (row && Date.now() - Date.parse(row.last_seen) > 60_000)
      this.stmts.touchSession.run(iso(Date.now()), hash);
    return row;
  }

  /** A live session by its stored hash (what grants and proxies know it by). */
  sessionByHash(hash: string): SessionRow | undefined {
    return this.stmts.session.get(hash, iso(Date.now())) as SessionRow | undefined;
  }

  deleteSession(cookie: string): void {
    this.db.prepare('DELETE FROM sessions WHERE hash = ?').run(hashSecret(cookie));
  }

  /** A new token for `user`; refused with 429 when the user already holds `max` unexpired tokens (0: no limit). */
  createToken(
    user: string,
    note: string,
    expiresInS: number | undefined,
    max = 0,
  ): { token: string; row: TokenRow } {
    const token = `ha_${newSecret(24)}`;
    const now = Date.now();
    // Counted and inserted in one transaction, so parallel requests cannot overshoot the cap.
    const create = this.db.transaction(() => {
      const held = this.db
        .prepare(
          'SELECT COUNT(*) FROM tokens WHERE user = ? AND (expires_at IS NULL OR expires_at > ?)',
        )
        .pluck()
        .get(user, iso(now)) as number;
      if (max > 0 && held >= max) {
        throw new HubappsError(
          'limit_reached',
          `${user} already has ${max} API tokens (limits.tokens_per_user); delete one first`,
        );
      }
      return this.db
        .prepare(
          'INSERT INTO tokens (hash, user, note, prefix, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)',
        )
        .run(
          hashSecret(token),
          user,
          note,
          token.slice(0, 7),
          iso(now),
          expiresInS ? iso(now + expiresInS * 1000) : null,
        ).lastInsertRowid;
    });
    const id = create.immediate();
    return { token, row: this.db.prepare('SELECT * FROM tokens WHERE id = ?').get(id) as TokenRow };
  }

  /** The owner of a valid token, recording its use (at most once a minute, to spare the disk). */
  token(token: string): TokenRow | undefined {
    const row = this.stmts.token.get(hashSecret(token), iso(Date.now())) as TokenRow | undefined;
    if (row && (!row.last_used || Date.now() - Date.parse(row.last_used) > 60_000))
      this.stmts.touchToken.run(iso(Date.now()), row.id);
    return row;
  }

  /** The server whose API token this is, while that server is active; it is not a user's token. */
  serverToken(token: string): ServerTokenOwner | undefined {
    return this.stmts.serverToken.get(hashSecret(token)) as ServerTokenOwner | undefined;
  }

  tokens(user: string): TokenRow[] {
    return this.db
      .prepare('SELECT * FROM tokens WHERE user = ? ORDER BY id')
      .all(user) as TokenRow[];
  }

  deleteToken(user: string, id: number): boolean {
    return (
      this.db.prepare('DELETE FROM tokens WHERE user = ? AND id = ?').run(user, id).changes > 0
    );
  }

  createCode(c: {
    kind: CodeRow['kind'];
    user: string;
    admin: boolean;
    serverId?: number;
    next?: string;
    ttlS: number;
    binding?: string;
    session?: string;
    port?: PortRef;
  }): string {
    const code = newSecret();
    const now = Date.now();
    this.db
      .prepare(
        'INSERT INTO codes (hash, kind, user, admin, server_id, next, created_at, expires_at, binding, session, port, port_kind) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(
        hashSecret(code),
        c.kind,
        c.user,
        c.admin ? 1 : 0,
        c.serverId ?? null,
        c.next ?? null,
        iso(now),
        iso(now + c.ttlS * 1000),
        c.binding ?? null,
        c.session ?? null,
        c.port?.port ?? null,
        c.port?.kind ?? null,
      );
    return code;
  }

  /**
   * A per-server access code for one browser (`binding`: the hash of its grant cookie), or
   * undefined when the user already holds maxOutstandingGrants unredeemed ones: a page
   * that loops through authorize cannot fill the table. Counted and inserted in one
   * transaction, so parallel requests cannot overshoot.
   */
  createGrant(g: {
    user: string;
    admin: boolean;
    serverId: number;
    next: string;
    ttlS: number;
    binding: string;
    session: string;
    /** Issued for a port's own host: redeemable there alone (and a server's code never there). */
    port?: PortRef;
  }): string | undefined {
    return this.db
      .transaction(() => {
        if (
          (this.stmts.outstandingGrants.get(g.user, iso(Date.now())) as number) >=
          this.maxOutstandingGrants
        )
          return undefined;
        return this.createCode({ kind: 'grant', ...g });
      })
      .immediate();
  }

  /** Redeem a code once: a second redemption, an expired code or another kind finds nothing. */
  useCode(code: string, kind: CodeRow['kind']): CodeRow | undefined {
    const now = iso(Date.now());
    return this.stmts.useCode.get(now, hashSecret(code), kind, now) as CodeRow | undefined;
  }

  /** Redeem a per-server grant once, only for the server it was issued for, only with the grant cookie of the browser it was issued to. */
  useGrant(
    code: string,
    serverId: number,
    grantCookie: string,
    port?: PortRef,
  ): CodeRow | undefined {
    const now = iso(Date.now());
    return this.stmts.useGrant.get(
      now,
      hashSecret(code),
      serverId,
      hashSecret(grantCookie),
      port?.port ?? null,
      port?.kind ?? null,
      now,
    ) as CodeRow | undefined;
  }

  saveOAuthState(state: string, verifier: string, next: string): void {
    this.db
      .prepare('INSERT INTO oauth_states VALUES (?, ?, ?, ?)')
      .run(hashSecret(state), verifier, next, iso(Date.now() + 600_000));
  }

  takeOAuthState(state: string): { verifier: string; next: string } | undefined {
    return this.db
      .prepare(
        'DELETE FROM oauth_states WHERE hash = ? AND expires_at > ? RETURNING verifier, next',
      )
      .get(hashSecret(state), iso(Date.now())) as { verifier: string; next: string } | undefined;
  }

  /** Drop what has expired; reconcile calls this now and then. */
  prune(): void {
    const now = iso(Date.now());
    this.db.prepare('DELETE FROM sessions WHERE expires_at <= ?').run(now);
    this.db.prepare('DELETE FROM codes WHERE expires_at <= ?').run(iso(Date.now() - 3600_000));
    this.db.prepare('DELETE FROM oauth_states WHERE expires_at <= ?').run(now);
    this.db.prepare('DELETE FROM tokens WHERE expires_at IS NOT NULL AND expires_at <= ?').run(now);
  }
}
