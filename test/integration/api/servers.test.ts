import assert from 'node:assert/strict';
import { startLocalStack, type LocalStack } from '../../helpers/stack.js';

const APPS = {
  hello: {
    title: 'Hello',
    command: [process.execPath, '-e', 'setInterval(Object, 1000)', '{port}'],
  },
};

describe('api: bad requests get a JSON 4xx and change nothing', function () {
  this.timeout(30000);
  let stack: LocalStack;
  before(async () => (stack = await startLocalStack({ apps: APPS })));
  after(async () => stack?.stop());

  const nothingWritten = () => {
    assert.equal(stack.service.deps.store.list().length, 0, 'a row was written');
  };

  const cases: Array<[string, string, string, unknown, Record<string, string>, number, RegExp]> = [
    [
      'an invalid server name',
      'POST',
      '/users/alice/servers/Bad..Name',
      { app: 'hello' },
      {},
      400,
      /invalid server name/,
    ],
    [
      'a server name with a slash (encoded)',
      'POST',
      '/users/alice/servers/a%2Fb',
      { app: 'hello' },
      {},
      400,
      /invalid server name/,
    ],
    [
      'a user name starting with a dash',
      'POST',
      '/users/-rf/servers/x',
      { app: 'hello' },
      {},
      400,
      /invalid user name/,
    ],
    ['an unknown app', 'POST', '/users/alice/servers/x', { app: 'nope' }, {}, 404, /no app 'nope'/],
    ['a missing app field', 'POST', '/users/alice/servers/x', {}, {}, 400, /"app"/],
    [
      'an unknown option',
      'POST',
      '/users/alice/servers/x',
      { app: 'hello', options: { cmd: 'rm -rf /' } },
      {},
      400,
      /no option 'cmd'/,
    ],
    [
      'an unknown body field',
      'POST',
      '/users/alice/servers/x',
      { app: 'hello', command: ['sh'] },
      {},
      400,
      /unknown field 'command'/,
    ],
    ['malformed JSON', 'POST', '/users/alice/servers/x', '{"app": ', {}, 400, /not valid JSON/],
    ['a JSON array body', 'POST', '/users/alice/servers/x', '[1,2]', {}, 400, /JSON object/],
    [
      'a wrong content type',
      'POST',
      '/users/alice/servers/x',
      'app=hello',
      { 'content-type': 'application/x-www-form-urlencoded' },
      415,
      /JSON/,
    ],
    [
      'an oversized body',
      'POST',
      '/users/alice/servers/x',
      JSON.stringify({ app: 'hello', pad: 'x'.repeat(100_000) }),
      {},
      413,
      /too large/,
    ],
    [
      'a missing token',
      'POST',
      '/users/alice/servers/x',
      { app: 'hello' },
      { authorization: '' },
      401,
      /authentication required/,
    ],
    [
      'a wrong token',
      'POST',
      '/users/alice/servers/x',
      { app: 'hello' },
      { authorization: 'token nope' },
      401,
      /authentication required/,
    ],
    ['an unknown endpoint', 'GET', '/nope', undefined, {}, 404, /no such endpoint/],
  ];
  for (const [what, method, path, body, headers, status, message] of cases) {
    it(`answers ${status} to ${what}`, async () => {
      const r = await stack.api(method, path, body, headers);
      assert.equal(r.status, status, JSON.stringify(r.body));
      assert.equal(r.headers.get('content-type')?.split(';')[0], 'application/json');
      assert.equal(r.body.status, status);
      assert.match(r.body.message, message);
      nothingWritten();
    });
  }

  it('never leaks a stack trace or a secret in an error', async () => {
    const r = await stack.api('POST', '/users/alice/servers/x', '{"app": ', {});
    assert.doesNotMatch(JSON.stringify(r.body), /at .*\.js:\d+|node_modules/);
    assert.ok(!JSON.stringify(r.body).includes(stack.token));
  });

  it('answers health without a token', async () => {
    const r = await stack.api('GET', '/health', undefined, { authorization: '' });
    assert.equal(r.status, 200);
    assert.equal(r.body.chp, 'ok');
  });

  it('lists the catalog to a token holder', async () => {
    const r = await stack.api('GET', '/apps');
    assert.deepEqual(
      r.body.apps.map((a: { name: string }) => a.name),
      ['hello'],
    );
  });
});
