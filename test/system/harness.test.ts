import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, readdirSync } from 'node:fs';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PROTOCOL_VERSION } from '../../src/protocol/wire.js';
import { requireRootOrSkip } from '../helpers/index.js';
import {
  TEST_GROUP,
  TEST_USERS,
  createTestAccounts,
  exists,
  installProxy,
  lockDown,
  packageClosure,
  removeTestAccounts,
  renderSudoers,
  repoRoot,
  run,
  sudoAsService,
  writeSudoers,
  type InstalledProxy,
} from './harness.js';

const { alice, bob, mallory, svc } = TEST_USERS;
const VERSION_REQUEST = JSON.stringify({ op: 'version', version: PROTOCOL_VERSION });
const REFUSED = /sudo: a password is required/;

/** A root-owned script that says who it runs as and echoes its stdin: proves the rule without the real proxy. */
async function installStandIn(): Promise<{ root: string; path: string }> {
  const root = `/opt/hubapps-t-${randomBytes(4).toString('hex')}`;
  await mkdir(join(root, 'bin'), { recursive: true });
  const path = join(root, 'bin', 'stand-in');
  await writeFile(path, '#!/bin/sh\nid -un\ncat\n');
  await lockDown(root);
  await chmod(path, 0o755);
  return { root, path };
}

function walk(path: string): string[] {
  const info = lstatSync(path);
  return info.isDirectory()
    ? [path, ...readdirSync(path).flatMap((n) => walk(join(path, n)))]
    : [path];
}

describe('system test harness', function () {
  before(async function () {
    requireRootOrSkip(this);
    await createTestAccounts();
  });
  after(async function () {
    if (process.getuid?.() === 0) await removeTestAccounts();
  });

  describe('test accounts', () => {
    it('makes alice a supplementary and bob a primary member of the test group, mallory no member', async () => {
      assert.ok((await run('id', ['-nG', alice])).stdout.split(/\s+/).includes(TEST_GROUP));
      assert.equal((await run('id', ['-gn', bob])).stdout.trim(), TEST_GROUP);
      assert.ok(!(await run('id', ['-nG', mallory])).stdout.split(/\s+/).includes(TEST_GROUP));
    });

    it('makes the service user a system account without a login shell and with a home', async () => {
      const [, , uid, , , home, shell] = (await run('getent', ['passwd', svc])).stdout
        .trim()
        .split(':');
      assert.ok(Number(uid) < 1000, `uid ${uid} is not a system uid`);
      assert.equal(shell, '/usr/sbin/nologin');
      assert.ok(existsSync(home!));
    });

    it('creates the accounts again over the leftovers of a crashed run', async () => {
      await writeFile(join('/home', alice, 'leftover'), 'x');
      await createTestAccounts();
      assert.equal(existsSync(join('/home', alice, 'leftover')), false);
      assert.ok(await exists('passwd', alice));
    });
  });

  describe('the sudoers rule, with a stand-in proxy', () => {
    let standIn: { root: string; path: string };
    let removeRule: () => Promise<void>;
    before(async () => {
      standIn = await installStandIn();
      removeRule = await writeSudoers(svc, TEST_GROUP, standIn.path);
    });
    after(async () => {
      await removeRule?.();
      if (standIn) await rm(standIn.root, { recursive: true, force: true });
    });

    it('is systemd/hubapps.sudoers filled in, in the form docs/security.md gives', () => {
      const rules = renderSudoers(svc, TEST_GROUP, standIn.path)
        .split('\n')
        .filter((l) => l.trim() && !l.startsWith('#'));
      assert.deepEqual(rules, [
        `Defaults!${standIn.path} env_reset, !setenv`,
        `${svc} ALL=(%${TEST_GROUP},!root,!#0) NOPASSWD: ${standIn.path} ""`,
      ]);
    });

    it('lets the service user run the proxy as a supplementary member, with the request on stdin', async () => {
      const result = await sudoAsService(alice, standIn.path, { input: VERSION_REQUEST });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, `${alice}\n${VERSION_REQUEST}`);
    });

    it('lets the service user run the proxy as a primary-group member', async () => {
      const result = await sudoAsService(bob, standIn.path, { input: VERSION_REQUEST });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout.split('\n')[0], bob);
    });

    for (const [title, user, args] of [
      ['refuses a user outside the group', mallory, []],
      ['refuses root', 'root', []],
      ['refuses extra arguments', alice, ['--catalog-dir', '/tmp']],
      ['refuses an empty extra argument', alice, ['']],
    ] as const) {
      it(`${title} with "a password is required", running nothing`, async () => {
        const result = await sudoAsService(user, standIn.path, {
          args: [...args],
          input: VERSION_REQUEST,
        });
        assert.notEqual(result.code, 0);
        assert.match(result.stderr, REFUSED);
        assert.equal(result.stdout, '');
      });
    }

    it('refuses any other program', async () => {
      const result = await sudoAsService(alice, '/usr/bin/id');
      assert.match(result.stderr, REFUSED);
    });

    it('refuses everything once the remover ran', async () => {
      await removeRule();
      const result = await sudoAsService(alice, standIn.path, { input: VERSION_REQUEST });
      assert.match(result.stderr, REFUSED);
    });
  });

  describe('the proxy installed the production way', () => {
    let installed: InstalledProxy;
    let removeRule: () => Promise<void>;
    before(async () => {
      installed = await installProxy();
      removeRule = await writeSudoers(svc, TEST_GROUP, installed.proxyPath);
    });
    after(async () => {
      await removeRule?.();
      await installed?.remove();
    });

    it('lives outside the checkout, root-owned, with nothing writable by group or others', () => {
      assert.ok(!installed.root.startsWith(repoRoot()));
      for (const path of walk(installed.root)) {
        const info = lstatSync(path);
        assert.equal(info.uid, 0, `${path} is not owned by root`);
        assert.equal(info.mode & 0o022, 0, `${path} is writable by group or others`);
      }
    });

    it('cannot be changed by the service user', async () => {
      assert.notEqual(
        (await run('sudo', ['-u', svc, '--', 'test', '-w', installed.proxyPath])).code,
        0,
      );
      assert.notEqual(
        (await run('sudo', ['-u', svc, '--', 'touch', join(installed.root, 'lib', 'planted')]))
          .code,
        0,
      );
    });

    it("answers op version as alice and as bob, running as each of them, through the service user's sudo", async () => {
      for (const user of [alice, bob]) {
        const result = await sudoAsService(user, installed.proxyPath, { input: VERSION_REQUEST });
        assert.equal(result.code, 0, `${user}: ${result.stderr}`);
        const answer = JSON.parse(result.stdout) as { protocol: number; user: string };
        assert.equal(answer.protocol, PROTOCOL_VERSION);
        assert.equal(answer.user, user);
      }
    });

    it('is refused for mallory, root and extra arguments', async () => {
      for (const [user, args] of [
        [mallory, []],
        ['root', []],
        [alice, ['x']],
      ] as const) {
        const result = await sudoAsService(user, installed.proxyPath, {
          args: [...args],
          input: VERSION_REQUEST,
        });
        assert.match(result.stderr, REFUSED, `${user} ${args.join(' ')}`);
      }
    });
  });

  describe('removing the test accounts', () => {
    it('leaves no account, group, home or process behind', async () => {
      await removeTestAccounts();
      for (const user of Object.values(TEST_USERS)) {
        assert.equal(await exists('passwd', user), false, user);
        assert.equal(existsSync(join('/home', user)), false, user);
        assert.equal((await run('pgrep', ['-u', user])).stdout, '', user);
      }
      assert.equal(await exists('group', TEST_GROUP), false);
    });
  });
});

describe('the runtime closure of the installed proxy', () => {
  it("includes a package's dependencies, resolved as Node resolves them", async () => {
    const closure = await packageClosure(repoRoot(), ['http-proxy-3']);
    for (const rel of [
      'node_modules/http-proxy-3',
      'node_modules/debug',
      'node_modules/ms',
      'node_modules/follow-redirects',
    ]) {
      assert.ok(closure.has(rel), `${rel} missing from ${[...closure.keys()].join(', ')}`);
    }
    assert.equal(closure.has('node_modules/zod'), false);
  });

  it('names a package that is not installed', async () => {
    await assert.rejects(
      packageClosure(repoRoot(), ['no-such-package-hubapps']),
      /package no-such-package-hubapps .* is not installed/,
    );
  });
});
