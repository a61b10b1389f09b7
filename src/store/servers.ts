import type Database from 'better-sqlite3';
import { HubappsError } from '../errors.js';
import type { Db } from './db.js';
import { EventLog } from './events.js';
import type { ServerRow } from '../model/server.js';
import { ACTIVE_STATES, type ServerState } from '../model/states.js';

export { ACTIVE_STATES, SERVER_STATES, type ServerState } from '../model/states.js';
export type { ServerRow } from '../model/server.js';

/** `IN (...)` list for SQL over `states` (fixed names from SERVER_STATES, never user input). */
export const sqlStateList = (states: readonly ServerState[] = ACTIVE_STATES): string =>
  `(${states.map((s) => `'${s}'`).join(', ')})`;

/** The states in which a server's API token is accepted. */
export const TOKEN_STATES: readonly ServerState[] = ['pending', 'starting', 'running'];

export interface NewServer {
  user: string;
  name: string;
  app: string;
  options: Record<string, unknown>;
  /** The launch form's checked values (none: {}). */
  form?: Record<string, unknown>;
  /** Null for an app that listens on a unix socket only. */
  port: number | null;
  secret: string;
  logFile: string;
  actor: string;
  /** A server the hub starts (api/hub/): its binding, and its app's port (`port` is then its proxy's). */
  hub?: HubRow;
}

/** What the servers table keeps of a hub-started server. */
export interface HubRow {
  user: string;
  server: string;
  prefix: string;
  appPort: number;
}

/** Most active servers allowed, checked inside the claim's transaction so concurrent starts cannot overshoot (0: no limit). */
export interface Quotas {
  perUser: number;
  /** The config key perUser comes from, for the refusal (default: limits.servers_per_user). */
  perUserKey?: string;
  total: number;
  perApp: number;
}

export type ServerFields = Partial<
  Omit<ServerRow, 'id' | 'user' | 'name' | 'state' | 'created_at' | 'updated_at'>
>;

const FIELD_NAMES = new Set<string>([
  'app',
  'reason',
  'options',
  'port',
  'secret',
  'launcher_pid',
  'proxy_pid',
  'app_pid',
  'log_file',
  'launcher',
  'launcher_state',
  'started_at',
  'ready_at',
  'stopped_at',
  'last_activity',
  'api_token_hash',
  'hub_token_id',
  'app_port',
]);

/**
 * Servers and their events. Every state change is one transaction that updates the row and
 * appends an event, so the progress stream and the audit trail can never disagree with the
 * row (the events themselves live in events.ts).
 */
export class ServerStore {
  /** The events of every server; `events.emitter` announces each committed event. */
  readonly events: EventLog;
  private readonly byUserName: Database.Statement;
  private readonly byIdStmt: Database.Statement;

  constructor(private readonly db: Db) {
    this.events = new EventLog(db);
    this.byUserName = db.prepare('SELECT * FROM servers WHERE user = ? AND name = ?');
    this.byIdStmt = db.prepare('SELECT * FROM servers WHERE id = ?');
  }

  get(user: string, name: string): ServerRow | undefined {
    return this.byUserName.get(user, name) as ServerRow | undefined;
  }

  byId(id: number): ServerRow | undefined {
    return this.byIdStmt.get(id) as ServerRow | undefined;
  }

  list(filter: { user?: string; states?: readonly ServerState[] } = {}): ServerRow[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.user !== undefined) {
      where.push('user = ?');
      args.push(filter.user);
    }
    if (filter.states) {
      where.push(`state IN (${filter.states.map(() => '?').join(',')})`);
      args.push(...filter.states);
    }
    const sql = `SELECT * FROM servers ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY user, name`;
    return this.db.prepare(sql).all(...args) as ServerRow[];
  }

  active(): ServerRow[] {
    return this.list({ states: ACTIVE_STATES });
  }

  /** The launch form values of the user's most recently started server of `app` (by app name), for the launcher to offer again. */
  lastForms(user: string): Map<string, Record<string, unknown>> {
    const rows = this.db
      .prepare(
        `SELECT app, form FROM servers WHERE user = ? AND form <> '{}' ORDER BY started_at DESC, id DESC`,
      )
      .all(user) as { app: string; form: string }[];
    const out = new Map<string, Record<string, unknown>>();
    for (const r of rows)
      if (!out.has(r.app)) out.set(r.app, JSON.parse(r.form) as Record<string, unknown>);
    return out;
  }

  countByStateAndApp(): Array<{ state: ServerState; app: string; n: number }> {
    return this.db
      .prepare('SELECT state, app, COUNT(*) AS n FROM servers GROUP BY state, app')
      .all() as Array<{ state: ServerState; app: string; n: number }>;
  }

  /** Ports active servers hold: their own, and a hub server's app port too. */
  usedPorts(): Set<number> {
    return new Set(
      this.db
        .prepare(
          `SELECT port FROM servers WHERE port IS NOT NULL AND state IN ${sqlStateList()}
           UNION SELECT app_port FROM servers WHERE app_port IS NOT NULL AND state IN ${sqlStateList()}`,
        )
        .pluck()
        .all() as number[],
    );
  }

  /**
   * Make (user, name) a pending server: a new row, or a stopped/failed one brought back.
   * Throws 409 server_active while it is active and `port_taken` (retry with another port)
   * when the port index refuses.
   */
  claim(s: NewServer, quotas: Quotas = { perUser: 0, total: 0, perApp: 0 }): ServerRow {
    const now = new Date().toISOString();
    const run = (): ServerRow => {
      const existing = this.get(s.user, s.name);
      if (existing && ACTIVE_STATES.includes(existing.state)) {
        throw new HubappsError(
          'server_active',
          `server '${s.name}' of ${s.user} is already ${existing.state}; stop it first or pick another name`,
        );
      }
      if (existing && s.hub && existing.hub_user === null)
        throw new HubappsError(
          'not_hub_server',
          `${s.user} has a server '${s.name}' started from the hubapps launcher: JupyterHub may not take it over; remove it there or use another server name`,
        );
      this.checkQuotas(s, quotas);
      const values = {
        user: s.user,
        name: s.name,
        app: s.app,
        options: JSON.stringify(s.options),
        form: JSON.stringify(s.form ?? {}),
        port: s.port,
        secret: s.secret,
        log_file: s.logFile,
        hub_user: s.hub?.user ?? null,
        hub_server: s.hub?.server ?? null,
        hub_prefix: s.hub?.prefix ?? null,
        app_port: s.hub?.appPort ?? null,
        now,
      };
      if (existing) {
        this.db
          .prepare(
            `UPDATE servers SET app=@app, state='pending', reason=NULL, options=@options, form=@form, port=@port, secret=@secret,
             launcher_pid=NULL, proxy_pid=NULL, app_pid=NULL, launcher=NULL, launcher_state=NULL, log_file=@log_file, started_at=@now, ready_at=NULL,
             stopped_at=NULL, last_activity=NULL, api_token_hash=NULL, hub_token_id=NULL, hub_user=@hub_user, hub_server=@hub_server,
             hub_prefix=@hub_prefix, app_port=@app_port, updated_at=@now WHERE id=@id`,
          )
          .run({ ...values, id: existing.id });
      } else {
        this.db
          .prepare(
            `INSERT INTO servers (user, name, app, state, options, form, port, secret, log_file, hub_user, hub_server, hub_prefix, app_port, created_at, started_at, updated_at)
             VALUES (@user, @name, @app, 'pending', @options, @form, @port, @secret, @log_file, @hub_user, @hub_server, @hub_prefix, @app_port, @now, @now, @now)`,
          )
          .run(values);
      }
      const row = this.get(s.user, s.name)!;
      this.events.append(
        row,
        'state',
        'pending',
        `start of app '${s.app}' requested`,
        s.actor,
        now,
      );
      return row;
    };
    try {
      return this.withEvents(run);
    } catch (err) {
      throw translateConstraint(err);
    }
  }

  private checkQuotas(s: NewServer, q: Quotas): void {
    const count = (where: string, arg?: string) =>
      this.db
        .prepare(`SELECT COUNT(*) FROM servers WHERE state IN ${sqlStateList()} ${where}`)
        .pluck()
        .get(...(arg === undefined ? [] : [arg])) as number;
    const refuse = (what: string) =>
      new HubappsError('limit_reached', `${what}; stop a server first`);
    if (q.perUser && count('AND user = ?', s.user) >= q.perUser)
      throw refuse(
        `${s.user} already has ${q.perUser} active servers (${q.perUserKey ?? 'limits.servers_per_user'})`,
      );
    if (q.perApp && count('AND app = ?', s.app) >= q.perApp)
      throw refuse(
        `app '${s.app}' already runs ${q.perApp} times on this host (max_servers in its app file)`,
      );
    if (q.total && count('') >= q.total)
      throw refuse(`this host already runs ${q.total} servers (limits.servers_total)`);
  }

  /**
   * Move a server to `to`, in one transaction with its event. With `from`, only when the
   * current state is one of those (returns undefined otherwise): this is how concurrent
   * stop/start/reconcile decisions stay consistent without locks in memory.
   */
  transition(
    id: number,
    to: ServerState,
    opts: { from?: readonly ServerState[]; fields?: ServerFields; message: string; actor?: string },
  ): ServerRow | undefined {
    const now = new Date().toISOString();
    return this.withEvents((): ServerRow | undefined => {
      const row = this.byId(id);
      if (!row || (opts.from && !opts.from.includes(row.state))) return undefined;
      const fields: ServerFields = { ...opts.fields };
      if (to === 'stopped' || to === 'failed') fields.stopped_at ??= now;
      if (to === 'running') fields.ready_at ??= now;
      // The server's token dies with it: whatever ends a server (stop, failure, reconcile) revokes it.
      // A token the hub issued is then held by no server, so store/hub-tokens.ts lists it for deletion there.
      if (!TOKEN_STATES.includes(to))
        Object.assign(fields, { api_token_hash: null, hub_token_id: null });
      this.applyFields(id, { ...fields }, to, now);
      const updated = this.byId(id)!;
      this.events.append(updated, 'state', to, opts.message, opts.actor ?? null, now);
      return updated;
    });
  }

  /** Run `work` in one transaction; the events it appended are announced only once it committed (other stores write audited rows through it). */
  withEvents<T>(work: () => T): T {
    try {
      const out = this.db.transaction(work)();
      this.events.commit();
      return out;
    } catch (err) {
      this.events.discard();
      throw err;
    }
  }

  /**
   * Forget a server that has ended: its row goes, in one transaction with an audit event
   * that keeps its user and name (events outlive the row, their server_id set to NULL; its
   * shares, share links and codes go with it). Undefined, removing nothing, when the server
   * is active again.
   */
  remove(id: number, actor: string): ServerRow | undefined {
    return this.withEvents((): ServerRow | undefined => {
      const row = this.byId(id);
      if (!row || (row.state !== 'stopped' && row.state !== 'failed')) return undefined;
      this.events.append(row, 'audit', row.state, 'removed', actor);
      this.db.prepare('DELETE FROM servers WHERE id = ?').run(id);
      return row;
    });
  }

  /**
   * Move the server's last activity forward to `at` (ISO), never back: the proxy's report
   * and the app's own (JUPYTERHUB_ACTIVITY_URL) race, and the later one wins. True when it moved.
   */
  touchActivity(id: number, at: string): boolean {
    return (
      this.db
        .prepare(
          'UPDATE servers SET last_activity = ? WHERE id = ? AND (last_activity IS NULL OR last_activity < ?)',
        )
        .run(at, id, at).changes > 0
    );
  }

  /** Update bookkeeping fields (pids, activity) without a state change or event. */
  update(id: number, fields: ServerFields): void {
    this.applyFields(id, fields, undefined, new Date().toISOString());
  }

  progress(row: ServerRow, message: string): void {
    this.withEvents(() => this.events.append(row, 'progress', row.state, message, null));
  }

  audit(
    row: Pick<ServerRow, 'id' | 'user' | 'name' | 'state'> | null,
    message: string,
    actor: string,
  ): void {
    this.withEvents(() => this.events.append(row, 'audit', row?.state ?? null, message, actor));
  }

  private applyFields(
    id: number,
    fields: ServerFields,
    state: ServerState | undefined,
    now: string,
  ): void {
    const keys = Object.keys(fields).filter((k) => FIELD_NAMES.has(k));
    const sets = keys.map((k) => `${k} = @${k}`);
    if (state) sets.push('state = @state');
    sets.push('updated_at = @updated_at');
    const params: Record<string, unknown> = { id, updated_at: now, state };
    for (const k of keys) params[k] = (fields as Record<string, unknown>)[k] ?? null;
    if (!state) delete params.state;
    this.db.prepare(`UPDATE servers SET ${sets.join(', ')} WHERE id = @id`).run(params);
  }
}

function translateConstraint(err: unknown): unknown {
  const code = (err as { code?: string }).code;
  if (code === 'SQLITE_CONSTRAINT_UNIQUE' && String((err as Error).message).includes('port')) {
    return new HubappsError('port_taken', 'the chosen port is in use by another server', {
      cause: err,
      expose: false,
    });
  }
  if (code === 'SQLITE_CONSTRAINT_UNIQUE') {
    return new HubappsError('server_active', 'a server with that name already exists');
  }
  return err;
}
