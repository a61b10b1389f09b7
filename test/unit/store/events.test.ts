import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDb, type Db } from '../../../src/store/db.js';
import { ServerStore } from '../../../src/store/servers.js';

describe('store: the events table is pruned by age', () => {
  let dir: string;
  let db: Db;
  let store: ServerStore;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hubapps-events-'));
    db = openDb(path.join(dir, 'db.sqlite'));
    store = new ServerStore(db);
  });
  afterEach(() => {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const day = 86_400_000;
  const now = Date.parse('2026-06-01T00:00:00Z');
  const at = (daysAgo: number) => new Date(now - daysAgo * day).toISOString();

  it('deletes events older than events_max_age_days and keeps the rest, audit entries included', () => {
    store.events.append(null, 'audit', null, 'ancient audit', 'admin', at(400));
    store.events.append(null, 'audit', null, 'old audit', 'admin', at(91));
    store.events.append(null, 'audit', null, 'recent audit', 'admin', at(89));
    store.events.append(null, 'progress', null, 'today', 'admin', at(0));
    store.events.commit();
    assert.equal(store.events.prune(90, now), 2);
    const left = db.prepare('SELECT message FROM events ORDER BY id').pluck().all() as string[];
    assert.deepEqual(left, ['recent audit', 'today']);
    assert.equal(store.events.prune(90, now), 0);
  });

  it('finds old events through an index on their time, not by reading the whole table', () => {
    const plan = db
      .prepare('EXPLAIN QUERY PLAN DELETE FROM events WHERE at < ?')
      .all('2026-01-01') as Array<{ detail: string }>;
    assert.ok(
      plan.some((p) => /USING (COVERING )?INDEX events_at/.test(p.detail)),
      JSON.stringify(plan),
    );
  });
});
