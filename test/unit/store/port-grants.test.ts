import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AuthStore } from '../../../src/store/auth.js';
import { hashSecret } from '../../../src/secret-hash.js';
import { openDb, type Db } from '../../../src/store/db.js';
import { ServerStore } from '../../../src/store/servers.js';

const BINDING = 'the-grant-cookie';

describe("store: access codes for a user's own port", () => {
  let dir: string;
  let db: Db;
  let auth: AuthStore;
  let serverId: number;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hubapps-port-grant-'));
    db = openDb(path.join(dir, 'db.sqlite'));
    auth = new AuthStore(db);
    serverId = new ServerStore(db).claim({
      user: 'alice',
      name: 'lab',
      app: 'lab',
      options: {},
      port: 50001,
      secret: 's',
      logFile: '/tmp/x.log',
      actor: 'alice',
    }).id;
  });
  afterEach(() => {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const grant = (port?: { port: number; kind: 'server' | 'host' }) =>
    auth.createGrant({
      user: 'alice',
      admin: false,
      serverId,
      next: '/',
      ttlS: 60,
      // authorize gets the hash of the grant cookie; redemption brings the cookie itself.
      binding: hashSecret(BINDING),
      session: 'sess',
      ...(port ? { port } : {}),
    })!;

  it('redeems a port code only with the same port and kind', () => {
    const code = grant({ port: 8787, kind: 'server' });
    assert.equal(auth.useGrant(code, serverId, BINDING), undefined, 'not as a server code');
    assert.equal(auth.useGrant(code, serverId, BINDING, { port: 8788, kind: 'server' }), undefined);
    assert.equal(auth.useGrant(code, serverId, BINDING, { port: 8787, kind: 'host' }), undefined);
    const used = auth.useGrant(code, serverId, BINDING, { port: 8787, kind: 'server' });
    assert.equal(used?.port, 8787);
    assert.equal(used?.port_kind, 'server');
    assert.equal(
      auth.useGrant(code, serverId, BINDING, { port: 8787, kind: 'server' }),
      undefined,
      'single use',
    );
  });

  it("never redeems a server's code on a port's host", () => {
    const code = grant();
    assert.equal(auth.useGrant(code, serverId, BINDING, { port: 8787, kind: 'server' }), undefined);
    assert.equal(auth.useGrant(code, serverId, BINDING, { port: 8787, kind: 'host' }), undefined);
    assert.equal(auth.useGrant(code, serverId, BINDING)?.port, null);
  });
});
