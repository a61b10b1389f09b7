import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDb, type Db } from '../../../src/store/db.js';
import type { EventRow } from '../../../src/store/events.js';
import { ServerStore, type NewServer } from '../../../src/store/servers.js';

const base = (over: Partial<NewServer> = {}): NewServer => ({
  user: 'alice',
  name: 'lab',
  app: 'files',
  options: {},
  port: 50001,
  secret: 's3cret',
  logFile: '/tmp/x.log',
  actor: 'alice',
  ...over,
});

describe('store: servers and events', () => {
  let dir: string;
  let db: Db;
  let store: ServerStore;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hubapps-servers-'));
    db = openDb(path.join(dir, 'db.sqlite'));
    store = new ServerStore(db);
  });
  afterEach(() => {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('claims a new server as pending and records the event in the same step', () => {
    const heard: EventRow[] = [];
    store.events.emitter.on('event', (e: EventRow) => heard.push(e));
    const row = store.claim(base());
    assert.equal(row.state, 'pending');
    assert.equal(store.events.forServer(row.id).length, 1);
    assert.equal(heard.length, 1);
    assert.equal(heard[0]!.state, 'pending');
  });

  it('refuses a second claim of an active (user, name) with 409 and writes nothing', () => {
    store.claim(base());
    const before = db.prepare('SELECT COUNT(*) FROM events').pluck().get();
    assert.throws(
      () => store.claim(base({ port: 50002 })),
      (err: any) => err.status === 409 && err.code === 'server_active',
    );
    assert.equal(db.prepare('SELECT COUNT(*) FROM events').pluck().get(), before);
    assert.equal(db.prepare('SELECT COUNT(*) FROM servers').pluck().get(), 1);
  });

  it('never gives one port to two live servers', () => {
    store.claim(base());
    assert.throws(
      () => store.claim(base({ name: 'other' })),
      (err: any) => err.code === 'port_taken',
    );
    assert.equal(store.list().length, 1);
  });

  it('revives a stopped server in place, keeping its id, with a new secret and port', () => {
    const row = store.claim(base());
    store.transition(row.id, 'stopped', { message: 'done' });
    const again = store.claim(base({ port: 50009, secret: 'new', app: 'other' }));
    assert.equal(again.id, row.id);
    assert.equal(again.state, 'pending');
    assert.equal(again.port, 50009);
    assert.equal(again.secret, 'new');
    assert.equal(again.stopped_at, null);
    assert.ok(store.events.currentRunStart(row.id) > store.events.forServer(row.id)[0]!.id);
  });

  it('applies a guarded transition only from the listed states', () => {
    const row = store.claim(base());
    assert.equal(
      store.transition(row.id, 'running', { from: ['starting'], message: 'x' }),
      undefined,
    );
    assert.equal(store.byId(row.id)!.state, 'pending');
    const started = store.transition(row.id, 'starting', {
      from: ['pending'],
      fields: { launcher_pid: 123 },
      message: 'spawned',
    });
    assert.equal(started!.state, 'starting');
    assert.equal(started!.launcher_pid, 123);
    const failed = store.transition(row.id, 'failed', {
      fields: { reason: 'boom' },
      message: 'boom',
    });
    assert.equal(failed!.reason, 'boom');
    assert.ok(failed!.stopped_at);
    assert.deepEqual(
      store.events.forServer(row.id).map((e) => e.state),
      ['pending', 'starting', 'failed'],
    );
  });

  it('lists active servers and their ports for port allocation', () => {
    const a = store.claim(base());
    store.claim(base({ name: 'b', port: 50002 }));
    store.transition(a.id, 'stopped', { message: 'x' });
    assert.deepEqual(
      store.active().map((r) => r.name),
      ['b'],
    );
    assert.deepEqual([...store.usedPorts()], [50002]);
  });

  it("keeps each server's launch form values and gives back a user's latest ones per app", () => {
    const first = store.claim(base({ name: 'one', form: { workdir: 'a' } }));
    store.transition(first.id, 'stopped', { message: 'done' });
    const second = store.claim(base({ name: 'two', port: 50002, form: { workdir: 'b' } }));
    store.claim(base({ name: 'plain', app: 'other', port: 50003 }));
    store.claim(base({ user: 'bob', name: 'x', port: 50004, form: { workdir: 'bob' } }));
    assert.equal(second.form, '{"workdir":"b"}');
    assert.deepEqual([...store.lastForms('alice')], [['files', { workdir: 'b' }]]);
    assert.deepEqual([...store.lastForms('carol')], []);
  });
});
