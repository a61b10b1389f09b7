import assert from 'node:assert/strict';
import type { Context } from 'koa';
import { whoOf } from '../../../src/api/guards.js';
import { startLocalStack, type LocalStack } from '../../helpers/stack.js';

const asUser = (token: string) => ({ authorization: `token ${token}` });

describe('api: route guards decide who may call a route before its handler runs', function () {
  this.timeout(20000);
  let stack: LocalStack;
  let bobToken: string;
  before(async () => {
    stack = await startLocalStack({ apps: {} });
    bobToken = (await stack.api('POST', '/users/bob/tokens', {})).body.token;
  });
  after(async () => stack?.stop());

  it('answers a caller without a credential 401 with the code unauthenticated', async () => {
    const r = await stack.api('GET', '/users/alice', undefined, { authorization: '' });
    assert.equal(r.status, 401);
    assert.deepEqual(Object.keys(r.body).sort(), ['code', 'message', 'status']);
    assert.equal(r.body.code, 'unauthenticated');
  });

  it("refuses another user's servers (not_owner) and admin views (admin_only) to a user's token", async () => {
    for (const [method, path, code] of [
      ['GET', '/users/alice', 'not_owner'],
      ['GET', '/users/alice/servers/x/logs', 'not_owner'],
      ['DELETE', '/users/alice/servers/x', 'not_owner'],
      ['GET', '/users', 'admin_only'],
      ['GET', '/events', 'admin_only'],
      ['GET', '/shares', 'admin_only'],
    ] as const) {
      const r = await stack.api(method, path, undefined, asUser(bobToken));
      assert.equal(r.status, 403, `${method} ${path}`);
      assert.equal(r.body.code, code, `${method} ${path}`);
    }
  });

  it('lets the owner through to the handler, which sees who is calling', async () => {
    const me = await stack.api('GET', '/user', undefined, asUser(bobToken));
    assert.equal(me.body.name, 'bob');
    const mine = await stack.api('GET', '/users/bob', undefined, asUser(bobToken));
    assert.equal(mine.status, 200);
    assert.equal(mine.body.name, 'bob');
  });

  it('fails loudly when a handler asks for the caller on a route that has no guard', () => {
    assert.throws(
      () => whoOf({ state: {}, method: 'GET', path: '/x' } as unknown as Context),
      /no guard set the caller's identity on GET \/x/,
    );
  });
});
