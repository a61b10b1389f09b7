import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { configSchema } from '../../../src/config/schema.js';
import { runInstall } from '../../../src/ops/install.js';
import { bufferIo } from '../../../src/ops/io.js';
import { tmpDir, type TmpDir } from '../../helpers/index.js';
import { repoRoot } from '../../system/harness-install.js';
import { snapshot } from '../../system/ops-snapshot.js';

const run = promisify(execFile);
/** nobody exists on every Debian host; under --root install creates no accounts anyway. */
const ARGS = ['--service-user', 'nobody', '--allowed-group', 'nogroup'];

async function install(root: string, extra: string[] = []): Promise<string> {
  const io = bufferIo();
  assert.equal(await runInstall(['--root', root, ...ARGS, ...extra], io), 0, io.stderr);
  return io.stdout;
}

describe('hubapps install --root (a scratch root)', () => {
  let dir: TmpDir;
  let root: string;
  beforeEach(async () => {
    dir = await tmpDir('install');
    root = join(dir.path, 'root');
  });
  afterEach(() => dir.remove());

  it('lays out the program, wrappers, config, unit and a visudo-checked sudoers rule with the right modes', async () => {
    await install(root);
    const mode = (p: string) => (lstatSync(join(root, p)).mode & 0o7777).toString(8);
    assert.equal(mode('usr/lib/hubapps/lib/dist/src/proxy/main.js'), '644');
    assert.equal(mode('usr/lib/hubapps/lib/dist/ui/index.html'), '644', 'the launcher page is installed');
    assert.equal(mode('usr/lib/hubapps/lib/node_modules/better-sqlite3'), '755');
    assert.equal(mode('usr/lib/hubapps/bin/hubapps-proxy'), '755');
    assert.equal(mode('etc/sudoers.d/hubapps'), '440');
    assert.equal(mode('etc/hubapps/chp-token'), '600');
    assert.equal(mode('var/lib/hubapps'), '700');
    assert.equal(readlinkSync(join(root, 'usr/bin/hubapps')), '/usr/lib/hubapps/bin/hubapps');
    assert.match(readFileSync(join(root, 'usr/lib/hubapps/bin/hubapps-proxy'), 'utf8'), /^exec \S+ --liftoff-only --max-semi-space-size=1 \/usr\/lib\/hubapps\/lib\/dist\/src\/proxy\/main\.js --catalog-dir \/etc\/hubapps\/apps\.d --expect-user-check$/m);
    assert.match(readFileSync(join(root, 'etc/sudoers.d/hubapps'), 'utf8'), /^nobody ALL=\(%nogroup,!root\) NOPASSWD: \/usr\/lib\/hubapps\/bin\/hubapps-proxy ""$/m);
    await run('visudo', ['-cf', join(root, 'etc/sudoers.d/hubapps')]);
    assert.match(readFileSync(join(root, 'etc/systemd/system/hubapps.service'), 'utf8'), /^User=nobody$/m);
    assert.ok(existsSync(join(root, 'usr/lib/sysusers.d/hubapps.conf')));
    assert.ok(existsSync(join(root, 'usr/lib/tmpfiles.d/hubapps.conf')));
    // Runtime dependencies only: mocha is a devDependency.
    assert.ok(existsSync(join(root, 'usr/lib/hubapps/lib/node_modules/koa/package.json')));
    assert.equal(existsSync(join(root, 'usr/lib/hubapps/lib/node_modules/mocha')), false);
    assert.equal(existsSync(join(root, 'usr/lib/hubapps/lib/dist/test')), false);
  });

  it('writes a sample config that the schema accepts and that points at the installed paths', async () => {
    await install(root, ['--name', 'demo']);
    const config = configSchema.parse(parse(readFileSync(join(root, 'etc/demo/hubapps.yaml'), 'utf8')));
    assert.equal(config.proxy_command, '/usr/lib/demo/bin/hubapps-proxy');
    assert.equal(config.catalog_dir, '/etc/demo/apps.d');
    assert.equal(config.allowed_group, 'nogroup');
  });

  it('changes nothing on a second run: same files, modes, owners and mtimes', async () => {
    await install(root);
    const before = snapshot([root]);
    const second = await install(root);
    assert.doesNotMatch(second, /^\s+(done|would)\s/m, second);
    assert.deepEqual(snapshot([root]), before);
  });

  it("never overwrites the admin's config or CHP token, but repairs and prunes the program", async () => {
    await install(root);
    writeFileSync(join(root, 'etc/hubapps/hubapps.yaml'), 'allowed_group: staff\n');
    writeFileSync(join(root, 'etc/hubapps/chp-token'), 'the-real-token\n');
    writeFileSync(join(root, 'usr/lib/hubapps/lib/dist/src/stale.js'), 'old version\n');
    chmodSync(join(root, 'usr/lib/hubapps/lib/dist/src/cli.js'), 0o666);
    const out = await install(root);
    assert.match(out, /done\s+program in \/usr\/lib\/hubapps\/lib .*: 1 written, 1 removed/);
    assert.equal(readFileSync(join(root, 'etc/hubapps/hubapps.yaml'), 'utf8'), 'allowed_group: staff\n');
    assert.equal(readFileSync(join(root, 'etc/hubapps/chp-token'), 'utf8'), 'the-real-token\n');
    assert.equal(existsSync(join(root, 'usr/lib/hubapps/lib/dist/src/stale.js')), false);
    assert.equal(lstatSync(join(root, 'usr/lib/hubapps/lib/dist/src/cli.js')).mode & 0o777, 0o644);
  });

  it('writes nothing with --dry-run and says what it would do', async () => {
    mkdirSync(root);
    const io = bufferIo();
    assert.equal(await runInstall(['--root', root, '--dry-run', ...ARGS], io), 0);
    assert.deepEqual(readdirSync(root), []);
    assert.match(io.stdout, /would\s+program in \/usr\/lib\/hubapps\/lib/);
    assert.match(io.stdout, /would\s+sudoers rule \/etc\/sudoers\.d\/hubapps: .*checked with visudo -cf first/);
  });

  it('installs no sudoers rule that visudo refuses, and leaves no draft behind', async () => {
    const fakeBin = join(dir.path, 'bin');
    mkdirSync(fakeBin);
    writeFileSync(join(fakeBin, 'visudo'), '#!/bin/sh\necho "parse error in $2 near line 18" >&2\nexit 1\n', { mode: 0o755 });
    const cli = join(repoRoot(), 'dist', 'src', 'cli.js');
    const err = await run(process.execPath, [cli, 'install', '--root', root, ...ARGS], { env: { ...process.env, PATH: `${fakeBin}:${process.env.PATH}` } }).then(
      () => assert.fail('install succeeded although visudo refused the rule'),
      (e: { code: number; stderr: string }) => e,
    );
    assert.equal(err.code, 1);
    assert.match(err.stderr, /visudo refused the sudoers rule, nothing was installed: parse error in .*hubapps\.draft/);
    assert.deepEqual(readdirSync(join(root, 'etc/sudoers.d')), []);
  });
});
