import assert from 'node:assert/strict';
import type { Context } from 'koa';
import { Authenticator } from '../../../src/auth/authenticator.js';
import { AdminPolicy } from '../../../src/auth/admins.js';
import type { HubClient } from '../../../src/auth/hub-client.js';
import { HubappsError } from '../../../src/errors.js';
import { AuthStore } from '../../../src/store/auth.js';
import { openDb, type Db } from '../../../src/store/db.js';
import { LocalUserDirectory } from '../../../src/users/local.js';
import { LocalUserPolicy } from '../../../src/users/policy.js';
import { tmpDir, type TmpDir } from '../../helpers/index.js';

const SPAWNER = 'spawner-token-0123456789abcdef';
const ADMIN = 'admin-token-0123456789abcdef';

/** What require() reads of a Koa context with `Authorization: token T` (none when T is ''). */
function request(token: string): Context {
  const headers: Record<string, string> = token ? { authorization: `token ${token}` } : {};
  return {
    method: 'GET',
    path: '/services/hubapps/api/x',
    get: (name: string) => headers[name.toLowerCase()] ?? '',
    set: () => undefined,
    req: { headers, socket: { remoteAddress: '127.0.0.1' } },
  } as unknown as Context;
}

const code = (expected: string) => (err: unknown) =>
  err instanceof HubappsError && err.code === expected;

describe("the authenticator and the spawner's token (jupyterhub.spawner_token)", () => {
  let dir: TmpDir;
  let db: Db;
  let auth: Authenticator;
  const askedHub: string[] = [];

  before(async () => {
    dir = await tmpDir('spawner-token-auth');
    db = openDb(`${dir.path}/db.sqlite`);
    // A hub that would take any token as alice's: the spawner's must never reach it.
    const hub = {
      userForToken: async (token: string) => {
        askedHub.push(token);
        return { name: 'alice', admin: false };
      },
    } as unknown as HubClient;
    auth = new Authenticator(
      {
        admin_token: ADMIN,
        public_url: 'http://127.0.0.1:8000',
        trusted_proxies: [],
        jupyterhub: { spawner_token: SPAWNER },
      },
      new AuthStore(db),
      new AdminPolicy({ admin_users: [], admin_groups: [] }, new LocalUserDirectory()),
      new LocalUserPolicy(),
      hub,
      '/services/hubapps/',
    );
  });
  after(async () => {
    db.close();
    await dir.remove();
  });

  it('is the hub_spawner identity, no admin, on a route that asks for it', async () => {
    const who = await auth.require(request(SPAWNER), { spawner: true });
    assert.deepEqual(who, { name: 'jupyterhub', admin: false, via: 'hub_spawner' });
  });

  it('is refused (403 spawner_only) on every other route, whatever it asks', async () => {
    for (const opts of [{}, { admin: true }, { owner: 'alice' }, { serverToken: 'any' as const }])
      await assert.rejects(auth.require(request(SPAWNER), opts), code('spawner_only'));
  });

  it('is no user anywhere: fromToken knows it not, and never shows it to the hub', async () => {
    assert.equal(await auth.fromToken(SPAWNER, 'proxy'), undefined);
    assert.deepEqual(askedHub, []);
  });

  it('a spawner route takes nothing else: the admin token and a hub token get 403, none 401', async () => {
    await assert.rejects(auth.require(request(ADMIN), { spawner: true }), code('spawner_only'));
    await assert.rejects(
      auth.require(request('a-hub-token'), { spawner: true }),
      code('spawner_only'),
    );
    await assert.rejects(auth.require(request(''), { spawner: true }), code('unauthenticated'));
  });

  it('is only the configured token: a prefix of it is nobody', async () => {
    await assert.rejects(
      auth.require(request(SPAWNER.slice(0, -1)), { spawner: true }),
      code('spawner_only'),
    );
  });
});
