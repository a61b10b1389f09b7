import assert from 'node:assert/strict';
import path from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { SERVER_NAME, USER_NAME } from '../../src/names.js';
import { startLocalStack, type LocalStack } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait.js';
import { processesMentioning } from '../system/proc-scan.js';
import { RELIABILITY_APPS } from './apps.js';
import { raw, type RawAnswer } from './support.js';

/** An app whose log holds 6000 lines before it listens: more than the logs endpoint ever returns. */
const CHATTY = {
  ...RELIABILITY_APPS.tiny,
  command: [
    '/usr/bin/python3',
    '-u',
    '-c',
    `for i in range(6000): print('line', i)\n${RELIABILITY_APPS.tiny.command[2]}`,
    '{port}',
  ],
};

const validServer = (s: string) => SERVER_NAME.test(s) && !s.includes('..');
const validUser = (s: string) => USER_NAME.test(s) && !s.includes('..');
/** Characters that break paths, shells, SQL and parsers, mixed with ordinary ones. */
const NASTY = fc.constantFrom(
  '.',
  '/',
  '\\',
  '%',
  '-',
  '_',
  ' ',
  '\0',
  '\n',
  'a',
  'Z',
  '9',
  'é',
  '😀',
  '$',
  '`',
  ';',
  "'",
  '"',
  '*',
  '?',
  '#',
  '~',
  '\u202e',
);
const nastyString = fc.oneof(
  fc.string({ unit: NASTY, maxLength: 80 }),
  fc.string({ unit: 'binary', maxLength: 300 }),
);

/**
 * Scenario 7: bad input. Every malformed name, body, content type or log request gets a
 * JSON 4xx and writes nothing: no server row, no event, no token, no process. Hand-picked
 * cases first, then properties with fast-check over generated inputs.
 */
describe('reliability: bad input gets a JSON 4xx and writes nothing (local stack)', function () {
  this.timeout(120_000);
  let stack: LocalStack;
  let db: Database.Database;
  let tried = 0;
  before(async () => {
    stack = await startLocalStack({ apps: { tiny: RELIABILITY_APPS.tiny, chatty: CHATTY } });
    db = new Database(path.join(stack.dir, 'data', 'hubapps.sqlite'), {
      readonly: true,
      fileMustExist: true,
    });
  });
  after(async () => {
    process.stderr.write(`      figures: ${tried} bad inputs tried\n`);
    db?.close();
    await stack?.stop();
  });

  const counts = () =>
    db
      .prepare(
        'SELECT (SELECT COUNT(*) FROM servers) AS servers, (SELECT COUNT(*) FROM events) AS events, (SELECT COUNT(*) FROM tokens) AS tokens',
      )
      .get();
  const proxies = () => processesMentioning(stack.catalogDir).length;

  /** Send a request with the path byte for byte; the answer must be a JSON 4xx, and nothing may have changed. */
  const refused = async (
    method: string,
    urlPath: string,
    opts: { body?: string | Buffer; headers?: Record<string, string> } = {},
  ): Promise<RawAnswer> => {
    tried++;
    const before = counts();
    const headers = { authorization: `token ${stack.token}`, ...opts.headers };
    const res = await raw(stack.service.port, `/services/hubapps/api${urlPath}`, {
      method,
      headers,
      body: opts.body,
    });
    const where = `${method} ${JSON.stringify(urlPath)} body ${String(opts.body).slice(0, 100)}`;
    assert.ok(
      res.status >= 400 && res.status < 500,
      `${where} answered ${res.status}: ${res.body.slice(0, 200)}`,
    );
    assert.equal(res.headers['content-type']?.split(';')[0], 'application/json', where);
    const body = JSON.parse(res.body) as { status: number; message: string };
    assert.equal(body.status, res.status, where);
    assert.equal(typeof body.message, 'string', where);
    assert.deepEqual(counts(), before, `${where} wrote to the database`);
    return res;
  };
  const json = (value: unknown) => ({
    body: typeof value === 'string' || Buffer.isBuffer(value) ? value : JSON.stringify(value),
    headers: { 'content-type': 'application/json' },
  });
  const start = (user: string, name: string, value: unknown = { app: 'tiny' }) =>
    refused(
      'POST',
      `/users/${encodeURIComponent(user)}/servers/${encodeURIComponent(name)}`,
      json(value),
    );

  describe('server and user names', () => {
    const names = [
      '',
      ' ',
      'x'.repeat(256),
      '..',
      '.',
      'a..b',
      '/',
      'a/b',
      'ä',
      'Ünïcödé',
      '😀',
      'UPPER',
      '\0',
      'a\0b',
      '-rf',
      '--help',
      '.hidden',
      '_x',
      'x;rm -rf ~',
      '$(id)',
      '`id`',
      'a b',
      'name\n',
      'a\\b',
      '%2e%2e',
      '\u202eevil',
      'x'.repeat(64),
    ];
    for (const name of names) {
      it(`refuses the server name ${JSON.stringify(name.length > 20 ? `${name.slice(0, 10)}…(${name.length})` : name)}`, async () => {
        await start('alice', name);
      });
    }
    for (const user of [
      '-rf',
      '..',
      'a/b',
      'ä',
      '\0',
      'x'.repeat(256),
      '$(id)',
      'alice\n',
      ' alice',
      '.',
    ]) {
      it(`refuses the user name ${JSON.stringify(user.length > 20 ? `${user.slice(0, 10)}…` : user)}`, async () => {
        await start(user, 'ok');
      });
    }
    it('refuses dot segments and slashes sent raw in the path, not only encoded', async () => {
      for (const p of [
        '/users/alice/servers/..',
        '/users/alice/servers/.',
        '/users/../servers/x',
        '/users/alice/servers/a/b',
        '/users/alice/servers/%2e%2e%2f%2e%2e',
        '/users/alice/servers//x',
      ]) {
        await refused('POST', p, json({ app: 'tiny' }));
      }
    });
    it('refuses every generated invalid server name (property)', async () => {
      await fc.assert(
        fc.asyncProperty(
          nastyString.filter((s) => !validServer(s)),
          async (name) => void (await start('alice', name)),
        ),
        { numRuns: 300 },
      );
    });
    it('refuses every generated invalid user name (property)', async () => {
      await fc.assert(
        fc.asyncProperty(
          nastyString.filter((s) => !validUser(s)),
          async (user) => void (await start(user, 'ok')),
        ),
        { numRuns: 200 },
      );
    });
  });

  describe('apps, options and bodies', () => {
    for (const app of [
      'nope',
      '../tiny',
      'tiny/../tiny',
      '',
      'TINY',
      'x'.repeat(300),
      42,
      null,
      ['tiny'],
      { name: 'tiny' },
    ]) {
      it(`refuses the app ${JSON.stringify(app).slice(0, 30)}`, async () => {
        await start('alice', 'x', { app });
      });
    }
    for (const options of [
      '{"cmd":"rm -rf /"}',
      '{"__proto__":{"admin":true}}',
      '{"constructor":{}}',
      '[]',
      '"x"',
      '1',
      'null',
    ]) {
      it(`refuses the options ${options}`, async () => {
        await start('alice', 'x', `{"app":"tiny","options":${options}}`);
      });
    }
    for (const [what, text] of [
      ['malformed JSON', '{"app": '],
      ['a JSON array', '["tiny"]'],
      ['a JSON string', '"tiny"'],
      ['JSON null', 'null'],
      ['an unknown top-level field', '{"app":"tiny","command":["sh"]}'],
      ['a __proto__ field', '{"app":"tiny","__proto__":{"admin":true}}'],
      ['deeply nested JSON', `{"app":"tiny","options":${'['.repeat(5000)}${']'.repeat(5000)}}`],
      ['an oversized body (17 kB)', JSON.stringify({ app: 'tiny', pad: 'x'.repeat(17_000) })],
      ['an oversized body (5 MB)', JSON.stringify({ app: 'tiny', pad: 'x'.repeat(5_000_000) })],
      [
        'a body with invalid UTF-8',
        Buffer.from([...Buffer.from('{"app":"'), 0xff, 0xfe, ...Buffer.from('"}')]),
      ],
    ] as const) {
      it(`refuses ${what}`, async () => {
        await start('alice', 'x', text);
      });
    }
    it('refuses every generated JSON body that is not a start request (property)', async () => {
      const notAStart = fc
        .jsonValue()
        .filter(
          (v) => !(typeof v === 'object' && v !== null && (v as { app?: unknown }).app === 'tiny'),
        );
      await fc.assert(
        fc.asyncProperty(notAStart, async (v) => void (await start('alice', 'x', v))),
        { numRuns: 200 },
      );
    });
    it('refuses every generated set of option keys (property)', async () => {
      const options = fc.dictionary(
        fc.string({ minLength: 1, maxLength: 20 }),
        fc.jsonValue({ maxDepth: 2 }),
        { minKeys: 1, maxKeys: 5 },
      );
      await fc.assert(
        fc.asyncProperty(
          options,
          async (o) => void (await start('alice', 'x', { app: 'tiny', options: o })),
        ),
        { numRuns: 150 },
      );
    });
    it('refuses every generated malformed JSON text (property)', async () => {
      const malformed = fc.string({ maxLength: 200 }).filter((s) => {
        try {
          JSON.parse(s);
          return false;
        } catch {
          return true;
        }
      });
      await fc.assert(
        fc.asyncProperty(malformed, async (s) => void (await start('alice', 'x', s))),
        { numRuns: 200 },
      );
    });
  });

  describe('content types', () => {
    const body = JSON.stringify({ app: 'tiny' });
    for (const type of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/xml',
      'application/json-patch+json',
      'text/json',
      '',
    ]) {
      it(`refuses a start sent as ${JSON.stringify(type)} with 415`, async () => {
        const res = await refused('POST', '/users/alice/servers/x', {
          body,
          headers: type ? { 'content-type': type } : {},
        });
        assert.equal(res.status, 415);
      });
    }
    for (const charset of ['utf-16', 'latin1', 'x-evil']) {
      it(`refuses a JSON body declared in charset ${charset} with 415`, async () => {
        const res = await refused('POST', '/users/alice/servers/x', {
          body,
          headers: { 'content-type': `application/json; charset=${charset}` },
        });
        assert.equal(res.status, 415);
      });
    }
    it('refuses every generated non-JSON content type (property)', async () => {
      const mime = fc
        .tuple(fc.stringMatching(/^[a-z]{1,12}$/), fc.stringMatching(/^[a-z0-9.+-]{1,20}$/))
        .map(([a, b]) => `${a}/${b}`)
        .filter((t) => t !== 'application/json');
      await fc.assert(
        fc.asyncProperty(
          mime,
          async (t) =>
            void (await refused('POST', '/users/alice/servers/x', {
              body,
              headers: { 'content-type': t },
            })),
        ),
        { numRuns: 100 },
      );
    });
  });

  describe('log requests', () => {
    before(async () => {
      assert.equal(
        (await stack.api('POST', '/users/alice/servers/chatty', { app: 'chatty' })).status,
        202,
      );
      await waitFor(() => stack.service.deps.store.get('alice', 'chatty')?.state === 'running', {
        timeout: 15_000,
        what: 'the chatty app to run',
      });
    });

    it('caps a huge tail (10^9 lines) at 5000 lines', async () => {
      tried++;
      const r = await stack.api('GET', '/users/alice/servers/chatty/logs?tail=1000000000');
      assert.equal(r.status, 200);
      assert.equal(r.body.lines.length, 5000);
      assert.ok(r.body.lines.includes('line 5999'), 'the newest lines are the ones returned');
    });
    for (const tail of ['abc', '-1', '0', '1.5', '', '1e400', 'Infinity', '10%00']) {
      it(`refuses tail=${JSON.stringify(tail)} with 400`, async () => {
        const res = await refused('GET', `/users/alice/servers/chatty/logs?tail=${tail}`);
        assert.equal(res.status, 400);
      });
    }
    it('refuses a repeated tail parameter', async () => {
      await refused('GET', '/users/alice/servers/chatty/logs?tail=1&tail=2');
    });
    it('answers every generated tail with at most 5000 lines or a JSON 400 (property)', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(fc.string({ maxLength: 30 }), fc.integer().map(String), fc.double().map(String)),
          async (tail) => {
            tried++;
            const r = await stack.api(
              'GET',
              `/users/alice/servers/chatty/logs?tail=${encodeURIComponent(tail)}`,
            );
            if (r.status === 200) return r.body.lines.length <= 5000;
            return r.status === 400 && r.body.status === 400;
          },
        ),
        { numRuns: 150 },
      );
    });
    it('started no process for any refused request (only the chatty server runs)', () => {
      assert.equal(proxies(), 1);
      assert.deepEqual(
        stack.service.deps.store.list().map((s) => `${s.user}/${s.name}`),
        ['alice/chatty'],
      );
    });
  });
});
