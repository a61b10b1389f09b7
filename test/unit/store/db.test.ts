import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import {
  MIGRATIONS_DIR,
  migrate,
  openDb,
  readMigrations,
  schemaVersion,
} from '../../../src/store/db.js';

describe('store: the SQLite file and its migrations', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hubapps-db-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('creates a new database file with mode 0600, in WAL mode, at the newest schema version', () => {
    const file = path.join(dir, 'hubapps.sqlite');
    const db = openDb(file);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    const newest = readMigrations(MIGRATIONS_DIR).at(-1)!.version;
    assert.equal(schemaVersion(db), newest);
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type='table'").pluck().all();
    assert.ok(tables.includes('servers') && tables.includes('events'));
    db.close();
  });

  it('tightens the mode of an existing, too-open database file', () => {
    const file = path.join(dir, 'hubapps.sqlite');
    fs.writeFileSync(file, '', { mode: 0o644 });
    openDb(file).close();
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  });

  it('applies only the migrations an existing database lacks, in order, and records them', () => {
    const migrations = path.join(dir, 'migrations');
    fs.mkdirSync(migrations);
    fs.writeFileSync(path.join(migrations, '001_first.sql'), 'CREATE TABLE a (x INTEGER);');
    const file = path.join(dir, 'db.sqlite');
    const db1 = openDb(file, migrations);
    db1.prepare('INSERT INTO a VALUES (42)').run();
    db1.close();
    fs.writeFileSync(
      path.join(migrations, '002_second.sql'),
      "ALTER TABLE a ADD COLUMN y TEXT; UPDATE a SET y = 'kept';",
    );
    const db2 = new Database(file);
    assert.deepEqual(migrate(db2, migrations), [2]);
    assert.deepEqual(db2.prepare('SELECT x, y FROM a').get(), { x: 42, y: 'kept' });
    assert.deepEqual(migrate(db2, migrations), []);
    assert.deepEqual(
      db2.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all(),
      [1, 2],
    );
    db2.close();
  });

  it('rolls back a failing migration whole and names it', () => {
    const migrations = path.join(dir, 'migrations');
    fs.mkdirSync(migrations);
    fs.writeFileSync(path.join(migrations, '001_ok.sql'), 'CREATE TABLE a (x INTEGER);');
    fs.writeFileSync(
      path.join(migrations, '002_bad.sql'),
      'CREATE TABLE b (x INTEGER); THIS IS NOT SQL;',
    );
    const db = new Database(path.join(dir, 'db.sqlite'));
    assert.throws(() => migrate(db, migrations), /migration 002_bad\.sql failed/);
    assert.equal(schemaVersion(db), 1);
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type='table'").pluck().all();
    assert.ok(!tables.includes('b'), 'half-applied migration left table b behind');
    db.close();
  });
});
