import type Database from 'better-sqlite3';
import { conflict } from '../errors.js';
import type { Db } from './db.js';
import type { ServerRow, ServerStore } from './servers.js';

export type ShareKind = 'user' | 'group';

export interface ShareRow {
  id: number;
  server_id: number;
  kind: ShareKind;
  /** A user name or a Unix group name. */
  subject: string;
  created_by: string;
  created_at: string;
}

/** A share together with the server it opens. */
export interface ShareWithServer extends ShareRow {
  owner: string;
  server: string;
  state: ServerRow['state'];
  app: string;
}

const JOINED = 'SELECT shares.*, servers.user AS owner, servers.name AS server, servers.state AS state, servers.app AS app FROM shares JOIN servers ON servers.id = shares.server_id';

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
      insert: db.prepare('INSERT INTO shares (server_id, kind, subject, created_by, created_at) VALUES (?, ?, ?, ?, ?) RETURNING *'),
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
    };
  }

  /** Share `server` with a user or group; throws 409 'share_exists' if that share is already there. */
  add(server: ServerRow, kind: ShareKind, subject: string, actor: string): ShareRow {
    try {
      return this.servers.withEvents(() => {
        const row = this.stmts.insert!.get(server.id, kind, subject, actor, new Date().toISOString()) as ShareRow;
        this.servers.events.append(server, 'audit', server.state, `${actor} shared ${server.user}/${server.name} with ${kind} ${subject}`, actor);
        return row;
      });
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw conflict('share_exists', `${server.user}/${server.name} is already shared with ${kind} ${subject}`);
      throw err;
    }
  }

  /** Revoke a share; false if it no longer exists. */
  remove(share: ShareWithServer, actor: string): boolean {
    const server = this.servers.byId(share.server_id);
    return this.servers.withEvents(() => {
      const gone = this.stmts.remove!.run(share.id).changes === 1;
      if (gone && server) this.servers.events.append(server, 'audit', server.state, `${actor} revoked the share of ${server.user}/${server.name} with ${share.kind} ${share.subject}`, actor);
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
    return this.stmts.grantsTo!.get({ server: serverId, user, groups: JSON.stringify(groups) }) !== undefined;
  }
}
