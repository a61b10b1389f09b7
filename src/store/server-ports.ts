import type { PortRef } from '../model/auth.js';
import type { PortKind } from '../port-label.js';
import type { Db } from './db.js';
import { sqlStateList } from './servers.js';

/** One forward a server's proxy opened to a user's own port (migrations/013_server_ports.sql). */
export interface PortRow {
  server_id: number;
  port: number;
  kind: PortKind;
  shared: number;
  opened_at: string;
  last_seen: string;
}

/** A forward with its server's owner and name, for routing. */
export interface PortForward extends PortRow {
  user: string;
  name: string;
}

/** What opening a forward did: it was there, it was made (maybe after dropping an idle one), or the cap refused it. */
export type OpenResult =
  { outcome: 'refreshed' | 'opened'; dropped?: PortForward } | { outcome: 'cap'; open: number };

const FORWARD =
  'SELECT server_ports.*, servers.user, servers.name FROM server_ports JOIN servers ON servers.id = server_ports.server_id';

/**
 * The server_ports table. Forwards count towards their owner's cap only while their server
 * is active; a stopped server's rows stay (with the owner's share choices) until the server
 * is removed, and they are routed again only when it runs.
 */
export class PortStore {
  private readonly stmts;

  constructor(private readonly db: Db) {
    this.stmts = {
      get: db.prepare('SELECT * FROM server_ports WHERE server_id = ? AND port = ? AND kind = ?'),
      touch: db.prepare(
        'UPDATE server_ports SET last_seen = ? WHERE server_id = ? AND port = ? AND kind = ?',
      ),
      forServer: db.prepare('SELECT * FROM server_ports WHERE server_id = ? ORDER BY kind, port'),
      openOfUser: db
        .prepare(
          `SELECT COUNT(*) FROM server_ports JOIN servers ON servers.id = server_ports.server_id WHERE servers.user = ? AND servers.state IN ${sqlStateList()}`,
        )
        .pluck(),
      idlest: db.prepare(
        `${FORWARD} WHERE servers.user = ? AND servers.state IN ${sqlStateList()} AND server_ports.shared = 0 AND server_ports.last_seen < ? ORDER BY server_ports.last_seen LIMIT 1`,
      ),
      insert: db.prepare(
        'INSERT INTO server_ports (server_id, port, kind, shared, opened_at, last_seen) VALUES (?, ?, ?, 0, ?, ?)',
      ),
      setShared: db.prepare(
        'UPDATE server_ports SET shared = ? WHERE server_id = ? AND port = ? AND kind = ?',
      ),
      remove: db.prepare('DELETE FROM server_ports WHERE server_id = ? AND port = ? AND kind = ?'),
      running: db.prepare(
        `${FORWARD} WHERE servers.state = 'running' ORDER BY server_ports.server_id`,
      ),
    };
  }

  get(serverId: number, p: PortRef): PortRow | undefined {
    return this.stmts.get.get(serverId, p.port, p.kind) as PortRow | undefined;
  }

  forServer(serverId: number): PortRow[] {
    return this.stmts.forServer.all(serverId) as PortRow[];
  }

  /**
   * Record a use of the forward: refresh it, or open it within the owner's cap. At the cap,
   * the owner's unshared forward least recently used before `idleBefore` (ISO) is dropped
   * to make room; with none, the cap refuses. One transaction, so two proxies racing for
   * the last place cannot both get it.
   */
  open(serverId: number, owner: string, p: PortRef, cap: number, idleBefore: string): OpenResult {
    return this.db
      .transaction((): OpenResult => {
        const now = new Date().toISOString();
        if (this.stmts.touch.run(now, serverId, p.port, p.kind).changes > 0)
          return { outcome: 'refreshed' };
        const open = this.stmts.openOfUser.get(owner) as number;
        let dropped: PortForward | undefined;
        if (open >= cap) {
          dropped = this.stmts.idlest.get(owner, idleBefore) as PortForward | undefined;
          if (!dropped) return { outcome: 'cap', open };
          this.stmts.remove.run(dropped.server_id, dropped.port, dropped.kind);
        }
        this.stmts.insert.run(serverId, p.port, p.kind, now, now);
        return dropped ? { outcome: 'opened', dropped } : { outcome: 'opened' };
      })
      .immediate();
  }

  /** True when the forward exists (and now has this share). */
  setShared(serverId: number, p: PortRef, shared: boolean): boolean {
    return this.stmts.setShared.run(shared ? 1 : 0, serverId, p.port, p.kind).changes > 0;
  }

  /** True when there was such a forward. */
  remove(serverId: number, p: PortRef): boolean {
    return this.stmts.remove.run(serverId, p.port, p.kind).changes > 0;
  }

  /** Forwards of running servers: the port routes reconcile keeps in the apps CHP. */
  running(): PortForward[] {
    return this.stmts.running.all() as PortForward[];
  }
}

/** The calls the API makes on forwards (it never gets the store itself). */
export type PortRecords = Pick<PortStore, 'get' | 'forServer' | 'open' | 'setShared' | 'remove'>;
