import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_MIN_UID } from '../../src/config/schema.js';
import { proxyArgs } from '../../src/proxy/command-line.js';
import { PROTOCOL_VERSION, PROXY_EXIT, type StartRequest } from '../../src/protocol/wire.js';
import { requireRootOrSkip } from '../helpers/index.js';
import {
  TEST_GROUP,
  TEST_USERS,
  createTestAccounts,
  installCatalog,
  installProxy,
  installSudoersText,
  lockDown,
  removeTestAccounts,
  renderSudoers,
  run,
  runOk,
  sudoAsService,
  writeSudoers,
  type InstalledProxy,
} from './harness.js';

const { alice, svc } = TEST_USERS;
/** A second account with uid 0, in the allowed group: what `!root` alone lets through. */
const ZERO = TEST_GROUP.replace(/users$/, 'zero');
const VERSION_REQUEST = JSON.stringify({ op: 'version', version: PROTOCOL_VERSION });
const REFUSED = /sudo: a password is required/;

/** A root-owned script that prints its uid and environment: shows what sudo hands the proxy. */
async function installEnvPrinter(): Promise<{ root: string; path: string }> {
  const root = `/opt/hubapps-t-${randomBytes(4).toString('hex')}`;
  await mkdir(join(root, 'bin'), { recursive: true });
  const path = join(root, 'bin', 'print-env');
  await writeFile(path, '#!/bin/sh\nid -u\nexec /usr/bin/env\n');
  await lockDown(root);
  await chmod(path, 0o755);
  return { root, path };
}

/** Sudoers settings another file could add, which would loosen the proxy's environment if the rule did not pin it. */
const HOSTILE_DEFAULTS = (user: string) => `Defaults:${user} !env_reset, setenv\n`;

function startRequest(user: string): StartRequest {
  return {
    op: 'start',
    version: PROTOCOL_VERSION,
    server: { id: 9, user, name: 'files' },
    app: 'files',
    options: {},
    port: 1,
    secret: randomBytes(24).toString('hex'),
    publicOrigin: 'http://127.0.0.1:8000',
    allowedOrigins: [],
    prefix: `/apps/${user}/files/`,
    serviceUrl: 'http://127.0.0.1:1/services/hubapps/',
    stopGraceMs: 1000,
    readyTimeoutMs: 5000,
    logMaxBytes: 1 << 20,
    framing: { frames: 'server', popups: 'isolate' },
  };
}

describe('sudo and proxy hardening (real sudo, real accounts)', function () {
  this.timeout(60000);
  before(async function () {
    requireRootOrSkip(this);
    await createTestAccounts();
    await run('userdel', ['-f', ZERO]);
    await runOk('useradd', [
      '-o',
      '-u',
      '0',
      '-g',
      TEST_GROUP,
      '-M',
      '-s',
      '/usr/sbin/nologin',
      ZERO,
    ]);
  });
  after(async function () {
    if (process.getuid?.() !== 0) return;
    // userdel refuses a uid-0 account "in use" by every root process; -f removes the entry anyway.
    await run('userdel', ['-f', ZERO]);
    await removeTestAccounts();
  });

  describe('the sudoers rule of systemd/hubapps.sudoers', () => {
    let printer: { root: string; path: string };
    const removers: Array<() => Promise<void>> = [];
    before(async () => {
      printer = await installEnvPrinter();
    });
    afterEach(async () => {
      while (removers.length) await removers.pop()!();
    });
    after(async () => {
      if (printer) await rm(printer.root, { recursive: true, force: true });
    });

    it('refuses an account with uid 0 under another name, which a rule with only !root lets through', async () => {
      const onlyRoot = renderSudoers(svc, TEST_GROUP, printer.path)
        .replace(/^Defaults!.*$/m, '')
        .replace(',!#0)', ')');
      removers.push(await installSudoersText(onlyRoot));
      const through = await sudoAsService(ZERO, printer.path);
      assert.equal(
        through.code,
        0,
        `the weaker rule did not let ${ZERO} through: ${through.stderr}`,
      );
      assert.equal(through.stdout.split('\n')[0], '0');
      await removers.pop()!();

      removers.push(await writeSudoers(svc, TEST_GROUP, printer.path));
      const refused = await sudoAsService(ZERO, printer.path);
      assert.match(refused.stderr, REFUSED);
      assert.equal(refused.stdout, '');
      assert.equal(
        (await sudoAsService(alice, printer.path)).code,
        0,
        'the rule refuses alice too',
      );
    });

    it('refuses variables on the command line and resets the environment even when other sudoers files loosen both', async () => {
      removers.push(await installSudoersText(HOSTILE_DEFAULTS(svc)));
      removers.push(await writeSudoers(svc, TEST_GROUP, printer.path));
      const setenv = await run('sudo', [
        '-u',
        svc,
        '--',
        'sudo',
        '-n',
        '-u',
        alice,
        'NODE_OPTIONS=--require=/tmp/x.js',
        '--',
        printer.path,
      ]);
      assert.notEqual(setenv.code, 0);
      assert.match(
        setenv.stderr,
        /not allowed to set the following environment variables: NODE_OPTIONS/,
      );
      assert.equal(setenv.stdout, '');
      const preserve = await run('sudo', [
        '-u',
        svc,
        '--',
        'sudo',
        '-n',
        '-E',
        '-u',
        alice,
        '--',
        printer.path,
      ]);
      assert.notEqual(preserve.code, 0);
      assert.match(preserve.stderr, /not allowed to preserve the environment/);
      const leaked = await run('sudo', [
        '-u',
        svc,
        '--',
        'env',
        'NODE_OPTIONS=--require=/tmp/x.js',
        'sudo',
        '-n',
        '-u',
        alice,
        '--',
        printer.path,
      ]);
      assert.equal(leaked.code, 0, leaked.stderr);
      assert.doesNotMatch(leaked.stdout, /NODE_OPTIONS/);
    });

    it('is what makes the difference: without its Defaults line the loosened settings pass NODE_OPTIONS through', async () => {
      removers.push(await installSudoersText(HOSTILE_DEFAULTS(svc)));
      removers.push(
        await installSudoersText(
          renderSudoers(svc, TEST_GROUP, printer.path).replace(/^Defaults!.*$/m, ''),
        ),
      );
      const leaked = await run('sudo', [
        '-u',
        svc,
        '--',
        'env',
        'NODE_OPTIONS=--require=/tmp/x.js',
        'sudo',
        '-n',
        '-u',
        alice,
        '--',
        printer.path,
      ]);
      assert.equal(leaked.code, 0, leaked.stderr);
      assert.match(leaked.stdout, /NODE_OPTIONS=--require=\/tmp\/x\.js/);
    });
  });

  describe('the proxy, started through sudo by its installed wrapper', () => {
    let installed: InstalledProxy;
    let removeRule: () => Promise<void>;
    before(async () => {
      installed = await installProxy();
      await installCatalog(installed.catalogDir, {
        files: { title: 'Files', command: ['/usr/bin/python3', '-m', 'http.server', '{port}'] },
      });
      removeRule = await writeSudoers(svc, TEST_GROUP, installed.proxyPath);
    });
    after(async () => {
      await removeRule?.();
      await installed?.remove();
    });

    const start = (user = alice) =>
      sudoAsService(user, installed.proxyPath, {
        input: JSON.stringify(startRequest(user)),
        timeoutMs: 20_000,
      });

    it("never sees the caller's NODE_OPTIONS, even through a sudo loosened elsewhere: the wrapper starts node with a clean environment", async () => {
      // A separate installation whose rule lacks the Defaults line, under the loosened settings: only the wrapper stands in the way.
      const other = await installProxy({ catalogDir: installed.catalogDir });
      const undo = [
        await installSudoersText(HOSTILE_DEFAULTS(svc)),
        await installSudoersText(
          renderSudoers(svc, TEST_GROUP, other.proxyPath).replace(/^Defaults!.*$/m, ''),
        ),
      ];
      try {
        const env = ['NODE_OPTIONS=--require=/nonexistent/hubapps-t.cjs'];
        const r = await run(
          'sudo',
          ['-u', svc, '--', 'env', ...env, 'sudo', '-n', '-u', alice, '--', other.proxyPath],
          { input: VERSION_REQUEST },
        );
        assert.equal(r.code, 0, r.stderr);
        assert.equal(JSON.parse(r.stdout).user, alice);
      } finally {
        for (const u of undo) await u();
        await other.remove();
      }
    });

    it('refuses a catalog directory the service user owns, before running anything (exit 5)', async () => {
      const svcUid = Number((await runOk('id', ['-u', svc])).stdout);
      await chown(installed.catalogDir, svcUid, 0);
      try {
        const r = await start();
        assert.equal(r.code, PROXY_EXIT.refused, r.stderr);
        assert.match(
          r.stderr,
          new RegExp(
            `refused: the catalog directory ${installed.catalogDir} is owned by uid ${svcUid}, not root`,
          ),
        );
        assert.doesNotMatch(r.stderr, /listening on|command:/);
      } finally {
        await chown(installed.catalogDir, 0, 0);
      }
    });

    it('refuses an app file that every user may write', async () => {
      const file = join(installed.catalogDir, 'files.yaml');
      await chmod(file, 0o666);
      try {
        const r = await start();
        assert.equal(r.code, PROXY_EXIT.refused, r.stderr);
        assert.match(r.stderr, /the app file of 'files' .* is writable by every user \(mode 666\)/);
      } finally {
        await chmod(file, 0o644);
      }
    });

    it('refuses to run as an account below min_uid or outside the allowed group named in its wrapper', async () => {
      for (const [policy, expected] of [
        [{ allowedGroup: TEST_GROUP, minUid: 60000 }, /below min_uid 60000/],
        [
          { allowedGroup: 'root', minUid: DEFAULT_MIN_UID },
          new RegExp(`${alice} is not a member of the allowed group root`),
        ],
      ] as const) {
        const other = await installProxy({
          catalogDir: installed.catalogDir,
          proxyArgs: proxyArgs(installed.catalogDir, policy),
        });
        const rule = await writeSudoers(svc, TEST_GROUP, other.proxyPath);
        try {
          const r = await sudoAsService(alice, other.proxyPath, { input: VERSION_REQUEST });
          assert.equal(r.code, PROXY_EXIT.refused, r.stderr);
          assert.match(r.stderr, expected);
          assert.equal(r.stdout, '');
        } finally {
          await rule();
          await other.remove();
        }
      }
    });
  });
});
