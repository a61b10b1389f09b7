import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { HubappsError } from '../../../src/errors.js';
import { MIGRATIONS_DIR, openDb, readMigrations, type Db } from '../../../src/store/db.js';
import { ServerStore, type NewServer } from '../../../src/store/servers.js';

const hub = {
  user: 'alice@example.org',
  server: 'lab',
  prefix: '/user/alice@example.org/lab/',
  appPort: 50002,
};
const base = (over: Partial<NewServer> = {}): NewServer => ({
  user: 'alice',
  name: 'lab',
  app: 'files',
  options: {},
  port: 50001,
  secret: 's3cret',
  logFile: '/tmp/x.log',
  actor: 'jupyterhub',
  ...over,
});
const code = (expected: string) => (err: unknown) =>
  err instanceof HubappsError && err.code === expected;

describe('store: servers the hub started (migration 014)', () => {
  let dir: string;
  let db: Db;
  let store: ServerStore;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hubapps-hub-servers-'));
    db = openDb(path.join(dir, 'db.sqlite'));
    store = new ServerStore(db);
  });
  afterEach(() => {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('records the hub binding in the row, so a new instance on the same file knows it', () => {
    const row = store.claim(base({ hub }));
    db.close();
    db = openDb(path.join(dir, 'db.sqlite'));
    store = new ServerStore(db);
    const again = store.byId(row.id)!;
    assert.deepEqual(
      [again.hub_user, again.hub_server, again.hub_prefix, again.app_port, again.port],
      ['alice@example.org', 'lab', '/user/alice@example.org/lab/', 50002, 50001],
    );
  });

  it('has no column where the hub token could go', () => {
    const columns = (db.prepare('PRAGMA table_info(servers)').all() as { name: string }[]).map(
      (c) => c.name,
    );
    assert.ok(columns.includes('hub_prefix'));
    assert.ok(!columns.some((c) => /hub.*(token|secret)/.test(c) && c !== 'hub_token_id'));
  });

  it('leaves a launcher-started server unbound, and never lets the hub take one over', () => {
    const own = store.claim(base());
    assert.equal(own.hub_user, null);
    store.transition(own.id, 'stopped', { message: 'stopped' });
    assert.throws(() => store.claim(base({ hub })), code('not_hub_server'));
    assert.equal(store.byId(own.id)!.hub_user, null, 'the refused claim changed the row');
  });

  it("revives a stopped hub server for the hub, and a launcher start makes it the launcher's", () => {
    const row = store.claim(base({ hub }));
    store.transition(row.id, 'stopped', { message: 'stopped' });
    assert.equal(store.claim(base({ hub: { ...hub, appPort: 50003 } })).app_port, 50003);
    store.transition(row.id, 'stopped', { message: 'stopped' });
    const own = store.claim(base({ actor: 'alice' }));
    assert.deepEqual(
      [own.hub_user, own.hub_server, own.hub_prefix, own.app_port],
      [null, null, null, null],
    );
  });

  it("counts an active hub server's app port as used, and never gives it to a second server", () => {
    store.claim(base({ hub }));
    assert.deepEqual([...store.usedPorts()].sort(), [50001, 50002]);
    assert.throws(
      () => store.claim(base({ name: 'other', port: 50009, hub: { ...hub, server: 'other' } })),
      code('port_taken'),
    );
  });

  it('adds the columns to a database of the previous version without touching its rows', () => {
    const file = path.join(dir, 'old.sqlite');
    const old = new Database(file);
    const before = readMigrations(MIGRATIONS_DIR).filter((m) => m.version < 14);
    old.exec(
      'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
    );
    for (const m of before) {
      old.exec(m.sql);
      old.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?)').run(m.version, m.name, 'then');
    }
    old
      .prepare(
        `INSERT INTO servers (user, name, app, state, options, port, secret, created_at, updated_at)
         VALUES ('bob', 'old', 'files', 'running', '{}', 50005, 's', 'then', 'then')`,
      )
      .run();
    old.close();
    const upgraded = new ServerStore(openDb(file));
    const row = upgraded.get('bob', 'old')!;
    assert.equal(row.state, 'running');
    assert.equal(row.hub_user, null);
    assert.equal(row.app_port, null);
  });
});
