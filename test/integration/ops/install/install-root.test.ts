import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { configSchema } from '../../../../src/config/schema.js';
import { runInstall } from '../../../../src/ops/install/install.js';
import { bufferIo } from '../../../../src/ops/io.js';
import { tmpDir, type TmpDir } from '../../../helpers/index.js';
import { repoRoot } from '../../../system/harness-install.js';
import { snapshot } from '../../../system/ops-snapshot.js';

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
    // The entry point the wrapper runs, the bundle it compiles and its V8 code cache: code, which only root may change.
    for (const file of [
      'hubapps-proxy.cjs',
      'hubapps-proxy-bundle.cjs',
      'hubapps-proxy-bundle.v8cache',
    ])
      assert.equal(mode(`usr/lib/hubapps/lib/dist/src/proxy/${file}`), '644', file);
    assert.equal(
      mode('usr/lib/hubapps/lib/dist/ui/index.html'),
      '644',
      'the launcher page is installed',
    );
    assert.equal(mode('usr/lib/hubapps/lib/node_modules/better-sqlite3'), '755');
    assert.equal(mode('usr/lib/hubapps/bin/hubapps-proxy'), '755');
    assert.equal(mode('etc/sudoers.d/hubapps'), '440');
    assert.equal(mode('etc/hubapps/chp-token'), '600');
    assert.equal(mode('var/lib/hubapps'), '700');
    assert.equal(readlinkSync(join(root, 'usr/bin/hubapps')), '/usr/lib/hubapps/bin/hubapps');
    assert.match(
      readFileSync(join(root, 'usr/lib/hubapps/bin/hubapps-proxy'), 'utf8'),
      /^exec \/usr\/bin\/env -i PATH=\/usr\/bin:\/bin LANG=C\.UTF-8 \S+ --liftoff-only --max-semi-space-size=1 \/usr\/lib\/hubapps\/lib\/dist\/src\/proxy\/hubapps-proxy\.cjs --catalog-dir \/etc\/hubapps\/apps\.d --expect-user-check --allowed-group nogroup --min-uid 1000$/m,
    );
    assert.match(
      readFileSync(join(root, 'etc/sudoers.d/hubapps'), 'utf8'),
      /^nobody ALL=\(%nogroup,!root,!#0\) NOPASSWD: \/usr\/lib\/hubapps\/bin\/hubapps-proxy ""$/m,
    );
    await run('/usr/sbin/visudo', ['-cf', join(root, 'etc/sudoers.d/hubapps')]);
    assert.match(
      readFileSync(join(root, 'etc/systemd/system/hubapps.service'), 'utf8'),
      /^User=nobody$/m,
    );
    assert.equal(mode('etc/hubapps/apps-chp-token'), '600');
    const appsChp = readFileSync(
      join(root, 'etc/systemd/system/hubapps-apps-chp.service'),
      'utf8',
    ).replace(/^#.*\n/gm, '');
    assert.match(appsChp, /--host-routing/);
    assert.doesNotMatch(appsChp, /--no-include-prefix/);
    assert.match(appsChp, /^LoadCredential=apps-chp-token:\/etc\/hubapps\/apps-chp-token$/m);
    assert.ok(existsSync(join(root, 'usr/lib/sysusers.d/hubapps.conf')));
    assert.ok(existsSync(join(root, 'usr/lib/tmpfiles.d/hubapps.conf')));
    // Runtime dependencies only: mocha is a devDependency.
    assert.ok(existsSync(join(root, 'usr/lib/hubapps/lib/node_modules/koa/package.json')));
    assert.equal(existsSync(join(root, 'usr/lib/hubapps/lib/node_modules/mocha')), false);
    assert.equal(existsSync(join(root, 'usr/lib/hubapps/lib/dist/test')), false);
  });

  it('writes a sample config that the schema accepts and that points at the installed paths', async () => {
    await install(root, ['--name', 'demo']);
    const config = configSchema.parse(
      parse(readFileSync(join(root, 'etc/demo/hubapps.yaml'), 'utf8')),
    );
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
    assert.equal(
      readFileSync(join(root, 'etc/hubapps/hubapps.yaml'), 'utf8'),
      'allowed_group: staff\n',
    );
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
    assert.match(
      io.stdout,
      /would\s+sudoers rule \/etc\/sudoers\.d\/hubapps: .*checked with visudo -cf first/,
    );
  });

  it('installs no sudoers rule that visudo refuses, and leaves no draft behind', async () => {
    const fakeBin = join(dir.path, 'bin');
    mkdirSync(fakeBin);
    writeFileSync(
      join(fakeBin, 'visudo'),
      '#!/bin/sh\necho "parse error in $2 near line 18" >&2\nexit 1\n',
      { mode: 0o755 },
    );
    const cli = join(repoRoot(), 'dist', 'src', 'cli.js');
    const err = await run(process.execPath, [cli, 'install', '--root', root, ...ARGS], {
      env: { ...process.env, PATH: `${fakeBin}:${process.env.PATH}` },
    }).then(
      () => assert.fail('install succeeded although visudo refused the rule'),
      (e: { code: number; stderr: string }) => e,
    );
    assert.equal(err.code, 1);
    assert.match(
      err.stderr,
      /visudo refused the sudoers rule \S+, nothing was installed: parse error in .*hubapps\.draft/,
    );
    assert.deepEqual(readdirSync(join(root, 'etc/sudoers.d')), []);
  });

  it('installs configurable-http-proxy at the version the lockfile pins, root-owned and complete (it runs), with its unit', async () => {
    const out = await install(root);
    const lock = JSON.parse(readFileSync(join(repoRoot(), 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { version: string }>;
    };
    const version = lock.packages['node_modules/configurable-http-proxy']!.version;
    assert.match(
      out,
      new RegExp(
        `done\\s+configurable-http-proxy ${version.replace(/\./g, '\\.')} in /usr/lib/hubapps/chp `,
      ),
    );
    const chp = join(root, 'usr/lib/hubapps/chp/node_modules/configurable-http-proxy');
    assert.equal((lstatSync(join(chp, 'package.json')).mode & 0o7777).toString(8), '644');
    const ran = await run(process.execPath, [
      join(chp, 'bin/configurable-http-proxy'),
      '--version',
    ]);
    assert.equal(ran.stdout.trim(), version);
    const unit = readFileSync(
      join(root, 'etc/systemd/system/configurable-http-proxy.service'),
      'utf8',
    );
    assert.match(
      unit,
      new RegExp(
        `exec ${process.execPath} /usr/lib/hubapps/chp/node_modules/configurable-http-proxy/bin/configurable-http-proxy`,
      ),
    );
    assert.match(unit, /^LoadCredential=chp-token:\/etc\/hubapps\/chp-token$/m);
    assert.match(unit, /--default-target "\$\$\{CHP_HUB_URL:-http:\/\/127\.0\.0\.1:8081\}" /);
  });

  it('says exactly why CHP is not installed and what to run, when run from an installed copy without it', async () => {
    await install(root);
    const second = join(dir.path, 'second');
    const cli = join(root, 'usr/lib/hubapps/lib/dist/src/cli.js');
    const { stdout } = await run(process.execPath, [cli, 'install', '--root', second, ...ARGS]);
    const line =
      'configurable-http-proxy not installed: /usr/lib/hubapps/lib has no node_modules/configurable-http-proxy (installed without devDependencies). Install it with: npm install --prefix /usr/lib/hubapps/chp --omit=dev --no-audit --no-fund configurable-http-proxy@5.3 && chown -R root:root /usr/lib/hubapps/chp';
    assert.ok(
      stdout.includes(
        `skip   ${line.replace('/usr/lib/hubapps/lib has', `${join(root, 'usr/lib/hubapps/lib')} has`)}`,
      ),
      stdout,
    );
    assert.match(
      stdout,
      /next steps:\n {2}1\. Install configurable-http-proxy: npm install --prefix \/usr\/lib\/hubapps\/chp /,
    );
  });

  it("--jupyterhub-config makes Debian's jupyterhub.service read jupyterhub_config.py and start after CHP", async () => {
    const out = await install(root, ['--jupyterhub-config']);
    const dropIn = readFileSync(
      join(root, 'etc/systemd/system/jupyterhub.service.d/hubapps.conf'),
      'utf8',
    );
    assert.match(
      dropIn,
      /^\[Service\]\nExecStart=\nExecStart=\/usr\/bin\/python3 -m jupyterhub\.app -f \/etc\/jupyterhub\/jupyterhub_config\.py --upgrade-db$/m,
    );
    assert.match(dropIn, /^After=configurable-http-proxy\.service$/m);
    assert.match(
      out,
      /Put them into \/etc\/jupyterhub\/jupyterhub_config\.py, which the drop-in makes Debian's hub read/,
    );
    // The drop-in is about Debian's unit as shipped: it runs the hub with config.yaml, and the drop-in keeps everything else of that line.
    const debian = '/lib/systemd/system/jupyterhub.service';
    if (existsSync(debian)) {
      const exec = /^ExecStart=(.*)$/m.exec(readFileSync(debian, 'utf8'))![1]!;
      assert.equal(
        exec,
        '/usr/bin/python3 -m jupyterhub.app -f /etc/jupyterhub/config/jupyterhub_config.d/config.yaml --upgrade-db',
      );
    }
  });
});
