import type Database from 'better-sqlite3';
import { HubappsError } from '../errors.js';
import type { ShareKind, ShareLinkRow, ShareRow, ShareWithServer } from '../model/share.js';
import { hashSecret, newSecret } from '../secret-hash.js';
import type { Db } from './db.js';
import type { ServerRow, ServerStore } from './servers.js';

export type { ShareKind, ShareLinkRow, ShareRow, ShareWithServer } from '../model/share.js';

const LINK_COLUMNS = 'id, server_id, uses, uses_left, created_by, created_at, expires_at';
const JOINED =
  'SELECT shares.*, servers.user AS owner, servers.name AS server, servers.state AS state, servers.app AS app FROM shares JOIN servers ON servers.id = shares.server_id';

/**
 * The shares table. Every grant and revocation is written in the same transaction as its
 * audit event, so the audit trail never disagrees with who may get in.
 */
export class ShareStore {
  private readonly stmts: Record<string, Database.Statement>;

  constructor(
    db: Db,
    private readonly servers: ServerStore,
  ) {
    this.stmts = {
      insert: db.prepare(
        'INSERT INTO shares (server_id, kind, subject, created_by, created_at) VALUES (?, ?, ?, ?, ?) RETURNING *',
      ),
      byServer: db.prepare(`${JOINED} WHERE shares.server_id = ? ORDER BY shares.id`),
      byId: db.prepare(`${JOINED} WHERE shares.id = ?`),
      all: db.prepare(`${JOINED} ORDER BY shares.id`),
      remove: db.prepare('DELETE FROM shares WHERE id = ?'),
      reaching: db.prepare(
        `${JOINED} WHERE (shares.kind = 'user' AND shares.subject = @user) OR (shares.kind = 'group' AND shares.subject IN (SELECT value FROM json_each(@groups))) ORDER BY shares.id`,
      ),
      grantsTo: db.prepare(
        "SELECT 1 FROM shares WHERE server_id = @server AND ((kind = 'user' AND subject = @user) OR (kind = 'group' AND subject IN (SELECT value FROM json_each(@groups)))) LIMIT 1",
      ),
      insertLink: db.prepare(
        `INSERT INTO share_links (server_id, hash, uses, uses_left, created_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING ${LINK_COLUMNS}`,
      ),
      links: db.prepare(`SELECT ${LINK_COLUMNS} FROM share_links WHERE server_id = ? ORDER BY id`),
      link: db.prepare(`SELECT ${LINK_COLUMNS} FROM share_links WHERE id = ?`),
      removeLink: db.prepare('DELETE FROM share_links WHERE id = ?'),
      useLink: db.prepare(
        `UPDATE share_links SET uses_left = uses_left - 1 WHERE hash = ? AND uses_left > 0 AND expires_at > ? RETURNING ${LINK_COLUMNS}`,
      ),
      linkByHash: db.prepare(
        `SELECT ${LINK_COLUMNS} FROM share_links WHERE hash = ? AND uses_left > 0 AND expires_at > ?`,
      ),
      insertIgnore: db.prepare(
        "INSERT OR IGNORE INTO shares (server_id, kind, subject, created_by, created_at) VALUES (?, 'user', ?, ?, ?)",
      ),
    };
  }

  /** Mint a share link for `server`: its code is returned once and stored only as a hash. */
  addLink(
    server: ServerRow,
    uses: number,
    ttlS: number,
    actor: string,
  ): { code: string; link: ShareLinkRow } {
    const code = newSecret();
    const now = Date.now();
    const link = this.servers.withEvents(() => {
      const row = this.stmts.insertLink!.get(
        server.id,
        hashSecret(code),
        uses,
        uses,
        actor,
        new Date(now).toISOString(),
        new Date(now + ttlS * 1000).toISOString(),
      ) as ShareLinkRow;
      this.servers.events.append(
        server,
        'audit',
        server.state,
        `${actor} made share link ${row.id} for ${server.user}/${server.name} (${uses} use${uses === 1 ? '' : 's'})`,
        actor,
      );
      return row;
    });
    return { code, link };
  }

  links(serverId: number): ShareLinkRow[] {
    return this.stmts.links!.all(serverId) as ShareLinkRow[];
  }

  link(id: number): ShareLinkRow | undefined {
    return this.stmts.link!.get(id) as ShareLinkRow | undefined;
  }

  /** The live link with this code (unused uses left, not expired), without using it. */
  linkByCode(code: string): ShareLinkRow | undefined {
    return this.stmts.linkByHash!.get(hashSecret(code), new Date().toISOString()) as
      ShareLinkRow | undefined;
  }

  removeLink(server: ServerRow, link: ShareLinkRow, actor: string): void {
    this.servers.withEvents(() => {
      this.stmts.removeLink!.run(link.id);
      this.servers.events.append(
        server,
        'audit',
        server.state,
        `${actor} revoked share link ${link.id} of ${server.user}/${server.name}`,
        actor,
      );
    });
  }

  /**
   * Use one use of the link for `user`: in one transaction, count it down and give `user`
   * a share of its server (kept if there is one). Undefined when the link is used up,
   * expired, revoked or unknown.
   */
  redeemLink(code: string, server: ServerRow, user: string): ShareLinkRow | undefined {
    return this.servers.withEvents(() => {
      const link = this.stmts.useLink!.get(hashSecret(code), new Date().toISOString()) as
        ShareLinkRow | undefined;
      if (!link) return undefined;
      if (link.server_id !== server.id)
        throw new Error(`share link ${link.id} belongs to another server`);
      this.stmts.insertIgnore!.run(server.id, user, `link ${link.id}`, new Date().toISOString());
      this.servers.events.append(
        server,
        'audit',
        server.state,
        `${user} redeemed share link ${link.id} of ${server.user}/${server.name}`,
        user,
      );
      return link;
    });
  }

  /** Share `server` with a user or group; throws 409 'share_exists' if that share is already there. */
  add(server: ServerRow, kind: ShareKind, subject: string, actor: string): ShareRow {
    try {
      return this.servers.withEvents(() => {
        const row = this.stmts.insert!.get(
          server.id,
          kind,
          subject,
          actor,
          new Date().toISOString(),
        ) as ShareRow;
        this.servers.events.append(
          server,
          'audit',
          server.state,
          `${actor} shared ${server.user}/${server.name} with ${kind} ${subject}`,
          actor,
        );
        return row;
      });
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE')
        throw new HubappsError(
          'share_exists',
          `${server.user}/${server.name} is already shared with ${kind} ${subject}`,
        );
      throw err;
    }
  }

  /** Revoke a share; false if it no longer exists. */
  remove(share: ShareWithServer, actor: string): boolean {
    const server = this.servers.byId(share.server_id);
    return this.servers.withEvents(() => {
      const gone = this.stmts.remove!.run(share.id).changes === 1;
      if (gone && server)
        this.servers.events.append(
          server,
          'audit',
          server.state,
          `${actor} revoked the share of ${server.user}/${server.name} with ${share.kind} ${share.subject}`,
          actor,
        );
      return gone;
    });
  }

  byId(id: number): ShareWithServer | undefined {
    return this.stmts.byId!.get(id) as ShareWithServer | undefined;
  }

  forServer(serverId: number): ShareWithServer[] {
    return this.stmts.byServer!.all(serverId) as ShareWithServer[];
  }

  all(): ShareWithServer[] {
    return this.stmts.all!.all() as ShareWithServer[];
  }

  /** Shares naming `user` or one of `groups` (the recipient's view). */
  reaching(user: string, groups: readonly string[]): ShareWithServer[] {
    return this.stmts.reaching!.all({ user, groups: JSON.stringify(groups) }) as ShareWithServer[];
  }

  /** Does some share of this server name `user` or one of `groups`? */
  grants(serverId: number, user: string, groups: readonly string[]): boolean {
    return (
      this.stmts.grantsTo!.get({ server: serverId, user, groups: JSON.stringify(groups) }) !==
      undefined
    );
  }
}
