import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { HubappsError, errnoCode } from '../errors.js';

export type Db = Database.Database;

/** migrations/ ships next to dist/ and src/; resolved from this file so it works from both. */
export const MIGRATIONS_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../..',
  'migrations',
);

const MIGRATION_FILE = /^(\d{3})_[a-z0-9_]+\.sql$/;

/**
 * Open (creating if needed, mode 0600) the SQLite file and bring its schema up to date.
 * WAL lets the API read while a start writes; busy_timeout absorbs the rare overlap with
 * a second process (hubapps doctor) on the same file.
 */
export function openDb(file: string, migrationsDir = MIGRATIONS_DIR): Db {
  createPrivate(file);
  let db: Db;
  try {
    db = new Database(file);
  } catch (err) {
    throw new HubappsError(
      'db_open_failed',
      `cannot open the database ${file}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db, migrationsDir);
  return db;
}

function createPrivate(file: string): void {
  if (file === ':memory:') return;
  try {
    fs.closeSync(fs.openSync(file, fs.constants.O_CREAT | fs.constants.O_RDWR, 0o600));
    fs.chmodSync(file, 0o600);
  } catch (err) {
    const hint = errnoCode(err) === 'EACCES' ? ': the service user must own data_dir' : '';
    throw new HubappsError(
      'db_open_failed',
      `cannot create the database ${file} (${errnoCode(err) ?? 'error'})${hint}`,
      { cause: err },
    );
  }
}

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export function readMigrations(dir: string): Migration[] {
  return fs
    .readdirSync(dir)
    .filter((f) => MIGRATION_FILE.test(f))
    .sort()
    .map((f) => ({
      version: Number(f.slice(0, 3)),
      name: f,
      sql: fs.readFileSync(path.join(dir, f), 'utf8'),
    }));
}

/** Apply every migration newer than the recorded version, each in its own transaction, and record it. */
export function migrate(db: Db, dir: string): number[] {
  db.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
  );
  const done = new Set(
    db.prepare('SELECT version FROM schema_migrations').pluck().all() as number[],
  );
  const record = db.prepare(
    'INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)',
  );
  const applied: number[] = [];
  for (const m of readMigrations(dir)) {
    if (done.has(m.version)) continue;
    try {
      db.transaction(() => {
        db.exec(m.sql);
        record.run(m.version, m.name, new Date().toISOString());
      })();
    } catch (err) {
      throw new HubappsError(
        'migration_failed',
        `database migration ${m.name} failed: ${(err as Error).message}`,
        { cause: err },
      );
    }
    applied.push(m.version);
  }
  return applied;
}

export function schemaVersion(db: Db): number {
  return (
    (db
      .prepare('SELECT COALESCE(MAX(version), 0) FROM schema_migrations')
      .pluck()
      .get() as number) ?? 0
  );
}
