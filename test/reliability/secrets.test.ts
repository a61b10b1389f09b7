import { useLoginLink } from '../helpers/login-link.js';
import assert from 'node:assert/strict';
import { chmodSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { hashSecret } from '../../src/secret-hash.js';
import { requireRootOrSkip } from '../helpers/index.js';
import { startLocalStack } from '../helpers/stack.js';
import { run, TEST_USERS } from '../system/harness.js';
import { allProcesses, environOf, uidOfUser } from '../system/proc-scan.js';
import { SystemStack } from '../system/system-stack.js';
import {
  authorize,
  codeOf,
  redeemAt,
  setUpProbeWorld,
  viaChpRaw,
  type ProbeWorld,
} from './probe-kit.js';
import { raw, reconfigure } from './support.js';

const { alice, bob, svc } = TEST_USERS;

/** Which of `secrets` occur in `text`, by name (never the value: a failing test must not print it either). */
function leaked(text: string, secrets: Map<string, string>): string[] {
  return [...secrets].filter(([, value]) => text.includes(value)).map(([name]) => name);
}

/**
 * Scenario 9: secrets. Per-server secrets, the admin and CHP tokens, API tokens, session
 * cookies, grant and login codes never appear in any process's argv, in the service's log
 * or the server logs, or in API answers; tokens, sessions and codes are stored hashed; the
 * database is 0600 and no test user can read the logs or the database.
 */
describe('reliability: secrets stay out of argv, logs and API answers; files stay private (real sudo)', function () {
  this.timeout(60_000);
  const stack = new SystemStack();
  const secrets = new Map<string, string>();
  const answers: string[] = [];
  let w: ProbeWorld;
  let serviceLog = '';
  before(async function () {
    requireRootOrSkip(this);
    w = await setUpProbeWorld(stack);
    // Debug logging writes a line per request: the most chances to leak.
    await reconfigure(stack, { log_level: 'debug' });
    await exercise();
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed') stack.reportFailure(this.currentTest.fullTitle());
  });
  after(async () => stack.tearDown());

  /** Keep every answer and the service's log as it grows (it keeps only its newest 20 kB). */
  const keep = (text: string) => {
    answers.push(text);
    serviceLog += stack.service!.output();
  };

  /** Use every credential the way clients do, including the ways that fail. */
  async function exercise(): Promise<void> {
    const web = await stack.startServer(alice, 'web', 'web');
    for (const row of stack.servers())
      secrets.set(`secret of ${row.user}/${row.name}`, row.secret!);
    secrets.set('admin token', stack.adminToken);
    secrets.set('CHP token', stack.chpToken);
    secrets.set("alice's API token", w.aliceToken);
    secrets.set("bob's API token", w.bobToken);
    secrets.set("alice's session", w.aliceSession.split('=')[1]!);
    secrets.set("bob's session", w.bobSession.split('=')[1]!);
    const link = await stack.api('POST', `/users/${alice}/login-links`, {});
    secrets.set('login link code', new URL(link.body.url as string).searchParams.get('code')!);
    // The link's own page carries its code in its form, back to the browser that opened it: not an answer to scan.
    await raw(
      stack.port,
      new URL(link.body.url as string).pathname + new URL(link.body.url as string).search,
    );
    keep(
      await useLoginLink(`http://127.0.0.1:${stack.port}`, link.body.url as string).then((r) =>
        r.text(),
      ),
    );
    const code = codeOf(await authorize(stack, w.aliceSession, alice, 'a'));
    secrets.set('grant code', code);
    const granted = await redeemAt(stack, alice, 'a', code);
    secrets.set(
      "alice's proxy cookie",
      String(granted.headers['set-cookie']).split(';')[0]!.split('=')[1]!,
    );
    for (const r of [
      granted,
      await redeemAt(stack, alice, 'a', code),
      await redeemAt(stack, bob, 'b', code),
    ])
      keep(r.body);
    for (const [path, headers] of [
      [`/apps/${alice}/web/?token=${w.aliceToken}&x=1`, { authorization: `token ${w.aliceToken}` }],
      [`/apps/${alice}/web/?token=${w.aliceToken}&x=3`, { accept: 'text/html' }],
      [`/apps/${alice}/web/?x=2&token=${stack.adminToken}`, {}],
      [`/apps/${alice}/web/?token=${w.bobToken}`, {}],
      [`/apps/${alice}/web/`, { authorization: `token ${w.bobToken}` }],
      [`/apps/${alice}/web/`, { authorization: `token ${web.secret}` }],
      [`/apps/${alice}/web/nope?token=${w.aliceToken}`, {}],
      [`/apps/${bob}/b/?token=${w.aliceToken}`, { accept: 'text/html' }],
    ] as const) {
      const res = await viaChpRaw(stack, path, headers);
      keep(res.body);
      // Should a redirect come with a cookie, follow it as a browser does.
      const cookie = res.headers['set-cookie'];
      if (res.status === 302 && cookie && res.headers.location?.startsWith('/')) {
        keep(
          (await viaChpRaw(stack, res.headers.location, { cookie: String(cookie).split(';')[0]! }))
            .body,
        );
      }
    }
    for (const [method, path, headers, body] of [
      ['GET', `/api/users/${alice}`, { authorization: `token ${w.bobToken}` }, undefined],
      ['GET', '/api/users', { authorization: `token ${w.aliceToken}` }, undefined],
      ['GET', '/api/user', { authorization: `token ${w.aliceToken}x` }, undefined],
      [
        'POST',
        '/api/internal/proxy-auth',
        { authorization: `Bearer ${web.secret}`, 'content-type': 'application/json' },
        JSON.stringify({ serverId: w.a.id, token: w.aliceToken }),
      ],
      [
        'POST',
        '/api/internal/proxy-auth',
        { authorization: `Bearer ${web.secret}`, 'content-type': 'application/json' },
        JSON.stringify({ serverId: web.id, token: w.bobToken }),
      ],
      [
        'POST',
        '/api/internal/redeem-grant',
        { authorization: `Bearer ${web.secret}`, 'content-type': 'application/json' },
        JSON.stringify({ serverId: web.id, code }),
      ],
      [
        'POST',
        `/api/users/${alice}/tokens`,
        {
          cookie: w.aliceSession,
          origin: 'http://evil.example',
          'content-type': 'application/json',
        },
        '{}',
      ],
      [
        'GET',
        `/api/users/${alice}/servers/web/logs?tail=500`,
        { authorization: `token ${w.aliceToken}` },
        undefined,
      ],
      [
        'GET',
        `/api/users/${alice}/servers/web`,
        { authorization: `token ${w.aliceToken}` },
        undefined,
      ],
      ['GET', '/api/users', { authorization: `token ${stack.adminToken}` }, undefined],
      ['GET', '/api/events?limit=1000', { authorization: `token ${stack.adminToken}` }, undefined],
      ['GET', '/api/user', { cookie: w.aliceSession }, undefined],
    ] as const) {
      keep((await raw(stack.port, `/services/hubapps${path}`, { method, headers, body })).body);
    }
  }

  it('puts no secret in the argv of any process (what ps shows every user)', () => {
    const shown = allProcesses().flatMap((p) =>
      leaked(p.argv.join(' '), secrets).map((s) => `${s} in argv of ${p.pid} (${p.argv[0]})`),
    );
    assert.deepEqual(shown, []);
  });

  it('puts no secret in the environment of any process of alice or bob (proxies and apps)', async () => {
    const uids = [await uidOfUser(alice), await uidOfUser(bob)];
    const found = allProcesses()
      .filter((p) => uids.includes(p.uids[0]!))
      .flatMap((p) =>
        leaked(Object.entries(environOf(p.pid)).join('\n'), secrets).map(
          (s) => `${s} in the environment of ${p.pid} (${p.argv[0]})`,
        ),
      );
    assert.deepEqual(found, []);
  });

  it("writes no secret into the service's log", () => {
    serviceLog += stack.service!.output();
    assert.match(serviceLog, /"level":20/, 'debug lines should be there to scan');
    assert.deepEqual(leaked(serviceLog, secrets), []);
  });

  it('writes no secret into any server log, though the web app logs every request line it gets', () => {
    const dir = join(stack.stateDir, 'logs');
    const web = readFileSync(join(dir, `${alice}@web.log`), 'utf8');
    assert.match(
      web,
      /"GET \/\?x=1 HTTP/,
      'the app logged the request without the token parameter',
    );
    const found = readdirSync(dir).flatMap((f) =>
      leaked(readFileSync(join(dir, f), 'utf8'), secrets).map((s) => `${s} in ${f}`),
    );
    assert.deepEqual(found, []);
  });

  it('answers no API request, failed or not, with a secret', () => {
    assert.ok(answers.length >= 20);
    assert.deepEqual(
      answers.flatMap((a) => leaked(a, secrets)),
      [],
    );
  });

  it('stores tokens, sessions and codes only as hashes (the raw values are nowhere in the database files)', () => {
    const files = readdirSync(join(stack.stateDir, 'data')).map((f) =>
      join(stack.stateDir, 'data', f),
    );
    const bytes = Buffer.concat(files.map((f) => readFileSync(f)));
    const hashed = [
      "alice's API token",
      "bob's API token",
      "alice's session",
      "bob's session",
      'grant code',
      'login link code',
    ];
    for (const name of hashed) {
      const value = secrets.get(name)!;
      assert.equal(bytes.includes(value), false, `${name} stored in clear`);
      assert.equal(bytes.includes(hashSecret(value)), true, `${name} not stored as its hash`);
    }
  });

  it('keeps the database and its journal files 0600, owned by the service user', async () => {
    const svcUid = await uidOfUser(svc);
    const dataDir = join(stack.stateDir, 'data');
    for (const f of readdirSync(dataDir)) {
      const info = statSync(join(dataDir, f));
      assert.equal(info.mode & 0o777, 0o600, `${f} has mode ${(info.mode & 0o777).toString(8)}`);
      assert.equal(info.uid, svcUid, `${f} is not owned by the service user`);
    }
  });

  it('keeps server logs and the database unreadable by users, even in a directory they may traverse', async () => {
    const dirs = [stack.stateDir, join(stack.stateDir, 'logs'), join(stack.stateDir, 'data')];
    const modes = dirs.map((d) => statSync(d).mode & 0o777);
    // As if an admin had made the directories traversable: only the files' own modes protect them now.
    for (const d of dirs) chmodSync(d, 0o711);
    try {
      for (const user of [alice, bob]) {
        for (const file of [
          join(stack.stateDir, 'logs', `${alice}@web.log`),
          join(stack.stateDir, 'logs', `${bob}@b.log`),
          stack.dbFile,
        ]) {
          const r = await run('runuser', ['-u', user, '--', 'cat', file]);
          assert.notEqual(r.code, 0, `${user} could read ${file}`);
          assert.match(r.stderr, /Permission denied/);
        }
        assert.notEqual(
          (await run('runuser', ['-u', user, '--', 'ls', join(stack.stateDir, 'logs')])).code,
          0,
          `${user} could list the logs`,
        );
      }
    } finally {
      dirs.forEach((d, i) => chmodSync(d, modes[i]!));
    }
  });
});

describe('reliability: the service creates its data and log directories private (local stack)', () => {
  it('makes data_dir 0700 and log_dir 0750 when they do not exist', async () => {
    const stack = await startLocalStack({ apps: {} });
    try {
      assert.equal(statSync(join(stack.dir, 'data')).mode & 0o777, 0o700);
      assert.equal(statSync(join(stack.dir, 'logs')).mode & 0o777, 0o750);
      assert.equal(statSync(join(stack.dir, 'data', 'hubapps.sqlite')).mode & 0o777, 0o600);
    } finally {
      await stack.stop();
    }
  });
});
