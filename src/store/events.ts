import { EventEmitter } from 'node:events';
import type Database from 'better-sqlite3';
import type { Db } from './db.js';
import type { EventQuery, EventRow } from '../model/event.js';
import type { ServerState } from '../model/states.js';

export type { EventQuery, EventRow } from '../model/event.js';

/**
 * The events table: state changes, progress messages and audited actions. It feeds the
 * progress stream and the audit trail. Appends made inside a transaction are announced to
 * listeners (`emitter`, event 'event') only by `commit()`, after the transaction, so a
 * listener never hears of an event that was rolled back.
 */
export class EventLog {
  readonly emitter = new EventEmitter();
  private pending: EventRow[] = [];
  private readonly insert: Database.Statement;

  constructor(private readonly db: Db) {
    this.emitter.setMaxListeners(0);
    this.insert = db.prepare(
      'INSERT INTO events (server_id, user, server, at, kind, state, message, actor) VALUES (@server_id, @user, @server, @at, @kind, @state, @message, @actor)',
    );
  }

  append(
    row: { id: number; user: string; name: string } | null,
    kind: EventRow['kind'],
    state: ServerState | null,
    message: string,
    actor: string | null,
    at = new Date().toISOString(),
  ): void {
    const ev = {
      server_id: row?.id ?? null,
      user: row?.user ?? null,
      server: row?.name ?? null,
      at,
      kind,
      state,
      message,
      actor,
    };
    const info = this.insert.run(ev);
    this.pending.push({ id: Number(info.lastInsertRowid), ...ev });
  }

  /** The transaction committed: tell the listeners. */
  commit(): void {
    const batch = this.pending;
    this.pending = [];
    for (const ev of batch) this.emitter.emit('event', ev);
  }

  /** The transaction rolled back: its events never happened. */
  discard(): void {
    this.pending = [];
  }

  forServer(serverId: number, afterId = 0, limit = 500): EventRow[] {
    return this.db
      .prepare('SELECT * FROM events WHERE server_id = ? AND id > ? ORDER BY id LIMIT ?')
      .all(serverId, afterId, limit) as EventRow[];
  }

  /** Newest first; the audit trail for admins. */
  search(q: EventQuery): EventRow[] {
    const where: string[] = [];
    const args: unknown[] = [];
    const add = (clause: string, value: unknown) => {
      if (value === undefined) return;
      where.push(clause);
      args.push(value);
    };
    add('user = ?', q.user);
    add('server = ?', q.server);
    add('kind = ?', q.kind);
    add('id < ?', q.before);
    const sql = `SELECT * FROM events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    return this.db.prepare(sql).all(...args, q.limit) as EventRow[];
  }

  /** Delete events older than `maxAgeDays`; returns how many went. */
  prune(maxAgeDays: number, now = Date.now()): number {
    const cutoff = new Date(now - maxAgeDays * 86_400_000).toISOString();
    return this.db.prepare('DELETE FROM events WHERE at < ?').run(cutoff).changes;
  }

  /** Id of the event that began the latest start ('pending'), so a progress stream skips older runs. */
  currentRunStart(serverId: number): number {
    return (
      (this.db
        .prepare(
          `SELECT MAX(id) FROM events WHERE server_id = ? AND kind = 'state' AND state = 'pending'`,
        )
        .pluck()
        .get(serverId) as number | null) ?? 0
    );
  }
}
