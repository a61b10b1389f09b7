import assert from 'node:assert/strict';
import type { Context } from 'koa';
import { Authenticator } from '../../../src/auth/authenticator.js';
import { AdminPolicy } from '../../../src/auth/admins.js';
import type { ServerTokenRule } from '../../../src/auth/identity.js';
import { newServerToken } from '../../../src/lifecycle/start.js';
import { AuthStore } from '../../../src/store/auth.js';
import { openDb, type Db } from '../../../src/store/db.js';
import { ServerStore } from '../../../src/store/servers.js';
import { LocalUserDirectory } from '../../../src/users/local.js';
import { LocalUserPolicy } from '../../../src/users/policy.js';
import { tmpDir, type TmpDir } from '../../helpers/index.js';

/** Just what require() reads of a Koa context for a request with `Authorization: token T`. */
function request(token: string): Context {
  const headers: Record<string, string> = { authorization: `token ${token}` };
  return {
    method: 'GET',
    path: '/services/hubapps/api/x',
    get: (name: string) => headers[name.toLowerCase()] ?? '',
    set: () => undefined,
    req: { headers, socket: { remoteAddress: '127.0.0.1' } },
  } as unknown as Context;
}

describe("the authenticator and a server's own token", () => {
  let dir: TmpDir;
  let db: Db;
  let auth: Authenticator;
  let token = '';

  before(async () => {
    dir = await tmpDir('server-token-auth');
    db = openDb(`${dir.path}/db.sqlite`);
    const servers = new ServerStore(db);
    const row = servers.claim({
      user: 'alice',
      name: 'lab',
      app: 'lab',
      options: {},
      port: null,
      secret: 'secret-0123456789',
      logFile: '/tmp/x.log',
      actor: 'alice',
    });
    const made = newServerToken();
    token = made.token;
    servers.update(row.id, { api_token_hash: made.hash });
    servers.transition(row.id, 'running', { message: 'ready' });
    auth = new Authenticator(
      { admin_token: undefined, public_url: 'http://127.0.0.1:8000', trusted_proxies: [] },
      new AuthStore(db),
      // alice is an admin: her server's token must still act as a plain user.
      new AdminPolicy({ admin_users: ['alice'], admin_groups: [] }, new LocalUserDirectory()),
      new LocalUserPolicy(),
      undefined,
      '/services/hubapps/',
    );
  });
  after(async () => {
    db.close();
    await dir.remove();
  });

  it('is refused with 503 until the start-up reconcile has settled the servers', async () => {
    await assert.rejects(auth.fromToken(token, '127.0.0.1'), (err: any) => {
      assert.equal(err.code, 'service_starting');
      assert.equal(err.status, 503);
      return true;
    });
    auth.serversSettled();
  });

  it('then acts as its owner, never as an admin, and names its server', async () => {
    const who = await auth.fromToken(token, '127.0.0.1');
    assert.deepEqual(
      { name: who?.name, admin: who?.admin, via: who?.via, server: who?.server?.name },
      { name: 'alice', admin: false, via: 'server_token', server: 'lab' },
    );
  });

  const allowed: Array<[string, ServerTokenRule]> = [
    ['any server token', 'any'],
    ["its owner's servers", { user: 'alice' }],
    ['its own server', { user: 'alice', name: 'lab' }],
  ];
  for (const [what, rule] of allowed) {
    it(`passes a route that accepts ${what}`, async () => {
      const who = await auth.require(request(token), { owner: 'alice', serverToken: rule });
      assert.equal(who.server?.name, 'lab');
    });
  }

  const refused: Array<
    [string, { owner?: string; admin?: boolean; serverToken?: ServerTokenRule }]
  > = [
    ['a route that says nothing of server tokens', { owner: 'alice' }],
    ['a route for any signed-in caller', {}],
    [
      "another server of its owner's",
      { owner: 'alice', serverToken: { user: 'alice', name: 'rstudio' } },
    ],
    ["another user's servers", { owner: 'bob', serverToken: { user: 'bob' } }],
    ['an admin route', { admin: true }],
  ];
  for (const [what, rule] of refused) {
    it(`is refused with 403 server_token_scope on ${what}`, async () => {
      await assert.rejects(auth.require(request(token), rule), (err: any) => {
        assert.equal(err.code, 'server_token_scope');
        assert.equal(err.status, 403);
        assert.match(err.message, /belongs to server lab of alice/);
        return true;
      });
    });
  }
});
