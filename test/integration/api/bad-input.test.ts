import assert from 'node:assert/strict';
import { request } from 'node:http';
import path from 'node:path';
import Database from 'better-sqlite3';
import { HubappsError } from '../../../src/errors.js';
import type { UserChecker } from '../../../src/users/account.js';
import { startLocalStack, type LocalStack } from '../../helpers/stack.js';

interface Raw {
  status: number;
  type: string;
  body: string;
}

/** Every row of every table, in a stable order: what "nothing was written" is checked against. */
function snapshot(file: string): Record<string, unknown[]> {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .all() as Array<{ name: string }>;
    return Object.fromEntries(
      tables.map(({ name }) => [name, db.prepare(`SELECT * FROM "${name}" ORDER BY rowid`).all()]),
    );
  } finally {
    db.close();
  }
}

describe('malformed and refused API requests get a JSON error at once and write nothing', function () {
  this.timeout(60000);
  let stack: LocalStack;
  let api: string;
  let alice: string;

  before(async () => {
    stack = await startLocalStack({
      apps: {
        hello: { title: 'Hello', command: [process.execPath, '-e', 'setInterval(() => {}, 1000)'] },
      },
      config: { reconcile_interval: 3600 },
    });
    // Local mode lets every name in; here only alice and bob may use hubapps, as the production policy would say.
    const users = stack.service.deps.users as UserChecker;
    const lookup = users.check.bind(users);
    users.check = async (name) => {
      const account = await lookup(name);
      if (name !== 'alice' && name !== 'bob')
        throw new HubappsError('user_not_in_group', `user ${name} is not a member of group local`);
      return account;
    };
    api = `${stack.service.urls.servicePrefix()}api`;
    alice = (await stack.api('POST', '/users/alice/tokens', {})).body.token;
    assert.equal(
      (await stack.api('GET', '/users/alice', undefined, { authorization: `token ${alice}` }))
        .status,
      200,
    );
  });
  after(async () => stack?.stop());

  /** One request as sent, path not normalised (`..` stays), with the admin token unless `auth` says otherwise. */
  function raw(
    method: string,
    urlPath: string,
    opts: { body?: string | Buffer; type?: string; auth?: string | null; chunked?: boolean } = {},
  ): Promise<Raw> {
    const headers: Record<string, string> = {};
    if (opts.auth !== null) headers.authorization = `token ${opts.auth ?? stack.token}`;
    if (opts.body !== undefined) headers['content-type'] = opts.type ?? 'application/json';
    if (opts.chunked) headers['transfer-encoding'] = 'chunked';
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: stack.service.port,
          path: `${api}${urlPath}`,
          method,
          headers,
          timeout: 5000,
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (c: string) => (body += c));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              type: String(res.headers['content-type'] ?? ''),
              body,
            }),
          );
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${urlPath}: no answer within 5 s`)));
      req.on('error', reject);
      req.end(opts.body);
    });
  }

  it('answers each with its status and a JSON {status, message}, and the database is unchanged', async () => {
    const file = path.join(stack.dir, 'data', 'hubapps.sqlite');
    const before = snapshot(file);
    const big = Buffer.from(JSON.stringify({ note: 'x'.repeat(200 * 1024) }));
    const cases: Array<[string, string, Parameters<typeof raw>[2], number]> = [
      ['POST', '/users/alice/servers/..', { body: '{"app": "hello"}' }, 400],
      ['POST', '/users/alice', { body: '{"app": "hello"}' }, 405],
      ['PUT', '/users/alice/servers/abc', { body: '{"app": "hello"}' }, 405],
      ['PATCH', '/users/alice/tokens', { body: '{}' }, 405],
      ['PROPFIND', '/users/alice', {}, 405],
      ['GET', '/no/such/endpoint', {}, 404],
      ['POST', '/users/alice/tokens', { body: '{"note": "x", "scopes": ["all"]}' }, 400],
      ['POST', '/users/alice/tokens', { body: big }, 413],
      ['POST', '/users/alice/tokens', { body: big, chunked: true }, 413],
      ['POST', '/users/alice/servers/x', { body: big, chunked: true }, 413],
      ['POST', '/users/root/tokens', { body: '{}' }, 403],
      ['POST', '/users/daemon/tokens', { body: '{}' }, 403],
      ['POST', '/users/alice/login-links', { body: '{"next": "/", "user": "root"}' }, 400],
      ['POST', '/users/root/login-links', { body: '{}' }, 403],
      ['POST', '/users/alice/tokens', { body: '{}', auth: null }, 401],
      ['POST', '/users/bob/tokens', { body: '{}', auth: 'ha_not-a-token' }, 401],
      ['POST', '/users/bob/tokens', { body: '{}', auth: alice }, 403],
      ['POST', '/users/alice/servers/x', { body: '{"app": "hello", "cmd": "sh"}' }, 400],
      ['POST', '/users/alice/servers/x', { body: '{"app": ', type: 'application/json' }, 400],
      [
        'POST',
        '/users/alice/servers/x',
        { body: 'app=hello', type: 'application/x-www-form-urlencoded' },
        415,
      ],
      ['POST', '/users/alice/servers/x', { body: '{"app": "no-such-app"}' }, 404],
      ['POST', '/users/Alice!/servers/x', { body: '{"app": "hello"}' }, 400],
      ['POST', '/users/alice/servers/x/share-links', { body: '{"uses": 1, "owner": "bob"}' }, 404],
      ['DELETE', '/users/alice/tokens/999', {}, 404],
    ];
    for (const [method, urlPath, opts, status] of cases) {
      const label = `${method} ${urlPath} ${opts?.chunked ? '(chunked) ' : ''}${typeof opts?.body === 'string' ? opts.body.slice(0, 60) : ''}`;
      const r = await raw(method, urlPath, opts);
      assert.equal(r.status, status, `${label}: ${r.status} ${r.body.slice(0, 300)}`);
      assert.match(r.type, /^application\/json/, `${label}: ${r.type} ${r.body.slice(0, 100)}`);
      const body = JSON.parse(r.body) as { status: number; message: string };
      assert.equal(body.status, status, label);
      assert.equal(typeof body.message, 'string', label);
    }
    assert.deepEqual(snapshot(file), before);
  });
});
