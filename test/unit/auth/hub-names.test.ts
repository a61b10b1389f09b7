import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HubClient } from '../../../src/auth/hub-client.js';
import { HubNames } from '../../../src/auth/hub-names.js';
import { configSchema } from '../../../src/config/schema.js';
import { HubappsError } from '../../../src/errors.js';

describe('JupyterHub user names and Unix accounts (jupyterhub.usernames)', () => {
  const mapped = new HubNames({
    usernames: 'mapped',
    username_map: { 'alice@example.org': 'alice' },
  });

  it('takes the hub name as the account with usernames: unix, and only the listed ones, mapped, with mapped', () => {
    const unix = new HubNames({ usernames: 'unix', username_map: {} });
    assert.equal(unix.account('alice'), 'alice');
    assert.equal(unix.hubName('alice'), 'alice');
    assert.equal(mapped.account('alice@example.org'), 'alice');
    assert.equal(mapped.hubName('alice'), 'alice@example.org');
    assert.equal(mapped.hubName('bob'), undefined);
    for (const name of ['alice', 'root', 'bob@example.org']) {
      assert.throws(
        () => mapped.account(name),
        (err: unknown) =>
          err instanceof HubappsError &&
          err.code === 'user_not_allowed' &&
          err.status === 403 &&
          err.message.includes('jupyterhub.username_map'),
        name,
      );
    }
  });

  it('refuses a map that is empty with mapped, names a non-account, or gives two hub users one account', () => {
    const parse = (jupyterhub: object) => configSchema.safeParse({ jupyterhub });
    assert.equal(parse({ usernames: 'mapped', username_map: { a: 'alice' } }).success, true);
    for (const bad of [
      { usernames: 'mapped' },
      { usernames: 'mapped', username_map: { a: 'not a user' } },
      { usernames: 'mapped', username_map: { a: 'alice', b: 'alice' } },
    ]) {
      assert.equal(parse(bad).success, false, JSON.stringify(bad));
    }
  });

  describe('at the hub boundary (HubClient against a stand-in hub)', () => {
    let hub: Server;
    let url = '';
    const activity: string[] = [];
    before(async () => {
      hub = createServer((req, res) => {
        if (req.method === 'POST' && req.url?.endsWith('/activity')) {
          activity.push(decodeURIComponent(req.url.split('/')[4]!));
          return res.writeHead(200).end('{}');
        }
        const token = /^token (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
        const name = { t1: 'alice@example.org', t2: 'mallory' }[token];
        if (!name) return res.writeHead(403).end('{}');
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            kind: 'user',
            name,
            admin: false,
            groups: [],
            scopes: ['access:services'],
          }),
        );
      });
      await new Promise<void>((resolve) => hub.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(hub.address() as AddressInfo).port}/hub/api`;
    });
    after(() => new Promise<void>((resolve) => hub.close(() => resolve())));

    it("gives a token's owner as the mapped account, refuses an unlisted hub user every time, and sends activity under the hub's name", async () => {
      const client = new HubClient(url, 'service-token', 30, 'hubapps', undefined, mapped);
      for (let i = 0; i < 2; i++) {
        assert.equal((await client.userForToken('t1', '192.0.2.1'))?.name, 'alice', `lookup ${i}`);
        await assert.rejects(
          client.userForToken('t2', '192.0.2.1'),
          /mallory has no Unix account here/,
          `lookup ${i}`,
        );
      }
      await client.postActivity('alice', new Date().toISOString());
      await client.postActivity('bob', new Date().toISOString());
      assert.deepEqual(
        activity,
        ['alice@example.org'],
        'an account no hub user maps to sends nothing',
      );
    });
  });
});
