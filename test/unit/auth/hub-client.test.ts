import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Authenticator } from '../../../src/auth/authenticator.js';
import { AdminPolicy } from '../../../src/auth/admins.js';
import { LocalUserPolicy } from '../../../src/users/policy.js';
import { HubClient, grantsService, hubServiceName } from '../../../src/auth/hub-client.js';
import { HubappsError } from '../../../src/errors.js';
import { ClientRateLimit } from '../../../src/limits/rate.js';
import { AuthStore } from '../../../src/store/auth.js';
import { openDb } from '../../../src/store/db.js';
import { LocalUserDirectory } from '../../../src/users/local.js';
import { tmpDir, type TmpDir } from '../../helpers/index.js';

/** A stand-in for JupyterHub's GET /hub/api/user: what each token is, as the hub would answer. */
const HUB_TOKENS: Record<string, { name: string; scopes: string[] }> = {
  'for-hubapps': {
    name: 'alice',
    scopes: ['access:services!service=hubapps', 'read:users:name!user=alice'],
  },
  'all-services': { name: 'bob', scopes: ['access:services', 'read:users!user=bob'] },
  'read-only': { name: 'alice', scopes: ['read:users!user=alice'] },
  'for-other-service': { name: 'alice', scopes: ['access:services!service=grafana'] },
  lookalike: { name: 'alice', scopes: ['access:services!service=hubapps-evil'] },
  'no-scopes-field': { name: 'alice', scopes: [] },
};

describe('JupyterHub tokens are accepted only with the scope that grants access to hubapps', () => {
  let hub: Server;
  let url = '';
  let calls = 0;
  before(async () => {
    hub = createServer((req, res) => {
      calls++;
      const token = /^token (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
      const who = HUB_TOKENS[token];
      if (req.url !== '/hub/api/user' || !who) {
        res.writeHead(403, { 'content-type': 'application/json' });
        return res.end('{"status":403,"message":"Forbidden"}');
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify(
          token === 'no-scopes-field'
            ? { kind: 'user', name: who.name, admin: false }
            : { kind: 'user', name: who.name, admin: false, groups: [], scopes: who.scopes },
        ),
      );
    });
    await new Promise<void>((resolve) => hub.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(hub.address() as AddressInfo).port}/hub/api`;
  });
  after(() => new Promise<void>((resolve) => hub.close(() => resolve())));

  const client = (limit?: ClientRateLimit) =>
    new HubClient(url, 'service-token', 30, 'hubapps', limit);

  it('accepts a token scoped to this service, or to all services', async () => {
    const c = client();
    assert.equal((await c.userForToken('for-hubapps', '192.0.2.1'))?.name, 'alice');
    assert.equal((await c.userForToken('all-services', '192.0.2.1'))?.name, 'bob');
  });

  const missingScope = (err: unknown) =>
    err instanceof HubappsError &&
    err.code === 'token_scope' &&
    err.status === 403 &&
    /alice/.test(err.message) &&
    /access:services!service=hubapps/.test(err.message);

  it("refuses a token the hub knows but that does not grant access to hubapps (narrow, another service's, a look-alike name, no scopes at all), naming the scope it lacks", async () => {
    const c = client();
    for (const token of ['read-only', 'for-other-service', 'lookalike', 'no-scopes-field']) {
      await assert.rejects(c.userForToken(token, '192.0.2.1'), missingScope, token);
    }
  });

  it('gives a hub token without the scope no identity but a 403 that names the scope, and one with it the identity of its owner', async () => {
    const dir: TmpDir = await tmpDir('hubscope');
    try {
      const db = openDb(`${dir.path}/db.sqlite`);
      const auth = new Authenticator(
        {
          admin_token: undefined,
          public_url: 'http://127.0.0.1:8000',
          trusted_proxies: ['127.0.0.1'],
        },
        new AuthStore(db),
        new AdminPolicy({ admin_users: [], admin_groups: [] }, new LocalUserDirectory()),
        new LocalUserPolicy(),
        client(),
        '/services/hubapps/',
      );
      await assert.rejects(auth.fromToken('for-other-service', '192.0.2.1'), missingScope);
      assert.equal(await auth.fromToken('random-nobody-knows', '192.0.2.1'), undefined);
      assert.equal((await auth.fromToken('for-hubapps', '192.0.2.1'))?.via, 'hub_token');
      db.close();
    } finally {
      await dir.remove();
    }
  });

  it('asks the hub once per unknown token, and answers repeats from its cache, the missing scope included', async () => {
    const c = client();
    const before = calls;
    for (let i = 0; i < 5; i++)
      assert.equal(await c.userForToken('random-nobody-knows', '192.0.2.1'), undefined);
    for (let i = 0; i < 5; i++)
      await assert.rejects(c.userForToken('read-only', '192.0.2.1'), missingScope);
    assert.equal(calls - before, 2);
  });

  it('refuses with 429 once too many new tokens arrive, without asking the hub', async () => {
    const c = client(
      new ClientRateLimit(
        3,
        1000,
        'unknown tokens to check with JupyterHub',
        'limits.unknown_tokens_per_minute',
        'limits.unknown_tokens_per_minute_total',
      ),
    );
    for (let i = 0; i < 3; i++) await c.userForToken(`random-${i}`, '192.0.2.1');
    const before = calls;
    await assert.rejects(
      c.userForToken('random-4', '192.0.2.1'),
      (err: unknown) =>
        err instanceof HubappsError &&
        err.status === 429 &&
        /limits\.unknown_tokens_per_minute/.test(err.message),
    );
    assert.equal(calls, before, 'the hub was asked anyway');
    assert.equal(
      await c.userForToken('random-0', '192.0.2.1'),
      undefined,
      'a cached refusal costs no lookup',
    );
  });

  it("keeps checking another client's new tokens while one client that sent too many is refused, up to the total for all", async () => {
    const c = client(
      new ClientRateLimit(
        3,
        5,
        'unknown tokens to check with JupyterHub',
        'limits.unknown_tokens_per_minute',
        'limits.unknown_tokens_per_minute_total',
      ),
    );
    for (let i = 0; i < 3; i++) await c.userForToken(`flood-${i}`, '203.0.113.66');
    await assert.rejects(
      c.userForToken('flood-3', '203.0.113.66'),
      /limits\.unknown_tokens_per_minute\b/,
    );
    assert.equal(
      (await c.userForToken('for-hubapps', '192.0.2.10'))?.name,
      'alice',
      "another client's real token was refused",
    );
    await c.userForToken('other-1', '192.0.2.11');
    await assert.rejects(
      c.userForToken('other-2', '192.0.2.12'),
      /limits\.unknown_tokens_per_minute_total/,
    );
  });

  it('reads the service name from the OAuth client id and matches scopes exactly', () => {
    assert.equal(hubServiceName('service-hubapps'), 'hubapps');
    assert.equal(grantsService(['access:services!service=hubapps'], 'hubapps'), true);
    assert.equal(grantsService(['access:services!service=hubapps2'], 'hubapps'), false);
    assert.equal(grantsService(['access:servers'], 'hubapps'), false);
  });
});
