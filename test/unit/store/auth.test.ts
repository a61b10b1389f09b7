import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { newServerToken } from '../../../src/lifecycle/start.js';
import { AuthStore } from '../../../src/store/auth.js';
import { openDb, type Db } from '../../../src/store/db.js';
import { ServerStore, type NewServer } from '../../../src/store/servers.js';

const server: NewServer = {
  user: 'alice',
  name: 'lab',
  app: 'files',
  options: {},
  port: 50001,
  secret: 's3cret',
  logFile: '/tmp/x.log',
  actor: 'alice',
};

describe("store: a server's own API token", () => {
  let dir: string;
  let file: string;
  let db: Db;
  let servers: ServerStore;
  let auth: AuthStore;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hubapps-server-token-'));
    file = path.join(dir, 'db.sqlite');
    db = openDb(file);
    servers = new ServerStore(db);
    auth = new AuthStore(db);
  });
  afterEach(() => {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A server in `starting` whose row holds the hash of a fresh token. */
  function started(over: Partial<NewServer> = {}) {
    const row = servers.claim({ ...server, ...over });
    const token = newServerToken();
    servers.update(row.id, { api_token_hash: token.hash });
    servers.transition(row.id, 'starting', { message: 'spawned' });
    return { row, token: token.token };
  }

  it('is kept only as a hash and names its server while the server starts and runs', () => {
    const { row, token } = started();
    assert.match(token, /^ha_/);
    assert.ok(!JSON.stringify(servers.byId(row.id)).includes(token));
    assert.deepEqual({ ...auth.serverToken(token) }, { id: row.id, user: 'alice', name: 'lab' });
    servers.transition(row.id, 'running', { message: 'ready' });
    assert.equal(auth.serverToken(token)?.id, row.id);
    assert.equal(auth.token(token), undefined, "it is not one of the user's own tokens");
  });

  for (const end of ['stopping', 'stopped', 'failed'] as const) {
    it(`stops working when the server goes ${end}, and its hash is gone from the row`, () => {
      const { row, token } = started();
      servers.transition(row.id, end, { message: end });
      assert.equal(auth.serverToken(token), undefined);
      assert.equal(servers.byId(row.id)?.api_token_hash, null);
    });
  }

  it('of an earlier run is refused when the server starts again, and a restarted service still accepts a running one', () => {
    const first = started();
    servers.transition(first.row.id, 'stopped', { message: 'stopped' });
    const second = started();
    assert.equal(auth.serverToken(first.token), undefined);
    servers.transition(second.row.id, 'running', { message: 'ready' });
    db.close();
    db = openDb(file);
    servers = new ServerStore(db);
    auth = new AuthStore(db);
    assert.equal(auth.serverToken(second.token)?.name, 'lab');
  });

  it('is refused once the row is gone, and never matches another server', () => {
    const a = started();
    const b = started({ name: 'other', port: 50002 });
    assert.equal(auth.serverToken(b.token)?.name, 'other');
    assert.equal(auth.serverToken(`${a.token}x`), undefined);
    servers.transition(a.row.id, 'stopped', { message: 'stopped' });
    servers.remove(a.row.id, 'alice');
    assert.equal(auth.serverToken(a.token), undefined);
  });
});

describe('store: activity', () => {
  let dir: string;
  let db: Db;
  let servers: ServerStore;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hubapps-activity-'));
    db = openDb(path.join(dir, 'db.sqlite'));
    servers = new ServerStore(db);
  });
  after(() => {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('moves last_activity forward only, whoever reports it', () => {
    const row = servers.claim(server);
    assert.equal(servers.touchActivity(row.id, '2026-01-01T10:00:00.000Z'), true);
    assert.equal(servers.touchActivity(row.id, '2026-01-01T09:00:00.000Z'), false);
    assert.equal(servers.byId(row.id)?.last_activity, '2026-01-01T10:00:00.000Z');
    assert.equal(servers.touchActivity(row.id, '2026-01-01T11:00:00.000Z'), true);
    assert.equal(servers.byId(row.id)?.last_activity, '2026-01-01T11:00:00.000Z');
  });
});
