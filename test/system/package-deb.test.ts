import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startChp, type RunningChp } from '../../src/chp/chp-process.js';
import { makeLayout } from '../../src/ops/install/layout.js';
import { requirePrerequisite, requireRootOrSkip, tmpDir, type TmpDir } from '../helpers/index.js';
import { exists, repoRoot, run, runOk } from './harness.js';

/**
 * The Debian package of `npm run package` on the real machine, built under a test name
 * (--name hubapps-t-[TAG]pkg: the package, every path, the service user and the group
 * hubapps-t-[TAG]pkg-users), so it never meets a real installation: dpkg -i (its postinst
 * runs hubapps install), doctor with a real sudo start, an upgrade over itself, remove and
 * purge. The accounts stay after a purge, as the docs say; the test removes them.
 */
const TAG = process.env.HUBAPPS_TEST_TAG ?? '';
const LAYOUT = makeLayout({ name: `hubapps-t-${TAG}pkg` });
const MEMBER = `hubapps-t-${TAG}pkgmember`;

async function installed(): Promise<boolean> {
  const r = await run('dpkg-query', ['-W', '-f=${Status}', LAYOUT.name]);
  return r.code === 0 && r.stdout.includes('installed');
}

async function cleanUp(): Promise<void> {
  if ((await run('dpkg-query', ['-W', LAYOUT.name])).code === 0)
    await runOk('dpkg', ['--purge', LAYOUT.name]);
  if (await exists('passwd', MEMBER)) await runOk('userdel', ['-r', MEMBER]);
  if (await exists('passwd', LAYOUT.serviceUser)) await runOk('userdel', [LAYOUT.serviceUser]);
  for (const group of [LAYOUT.serviceUser, LAYOUT.allowedGroup, MEMBER])
    if (await exists('group', group)) await runOk('groupdel', [group]);
}

describe('the Debian package (npm run package), installed, upgraded and purged with dpkg', function () {
  this.timeout(180_000);
  let dir: TmpDir;
  let deb: string;

  /** docs/install.md's package section: the build and install commands an admin runs. */
  const guide = readFileSync(join(repoRoot(), 'docs', 'install.md'), 'utf8');
  const timings: string[] = [];
  const timed = async <T>(what: string, work: () => Promise<T>): Promise<T> => {
    const t0 = Date.now();
    const out = await work();
    timings.push(`${what} ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return out;
  };

  before(async function () {
    requireRootOrSkip(this);
    requirePrerequisite(this, existsSync('/usr/bin/dpkg-deb'), 'needs dpkg-deb (Debian)');
    await cleanUp();
    dir = await tmpDir('deb');
    // What `npm run package` runs after its build, under the test's name (xz's compression is what takes time; gzip here).
    const script = (
      JSON.parse(readFileSync(join(repoRoot(), 'package.json'), 'utf8')) as {
        scripts: Record<string, string>;
      }
    ).scripts.package;
    assert.equal(script, 'npm run build --silent && node dist/scripts/package-deb.js');
    assert.match(guide, /^npm ci && npm run package {2,}# writes hubapps_VERSION_ARCH\.deb/m);
    const built = await timed('build', () =>
      runOk(process.execPath, [
        join(repoRoot(), 'dist', 'scripts', 'package-deb.js'),
        '--name',
        LAYOUT.name,
        '--out',
        dir.path,
        '--compress',
        'gzip',
      ]),
    );
    deb = built.stdout.trim();
    assert.match(deb, new RegExp(`/${LAYOUT.name}_\\d+\\.\\d+\\.\\d+_\\w+\\.deb$`));
  });
  after(async () => {
    if (timings.length) process.stdout.write(`      package path: ${timings.join(', ')}\n`);
    if (process.getuid?.() !== 0) return;
    await cleanUp();
    await dir?.remove();
  });

  it('declares what it needs, and ships only the program, CHP and the man page: install makes the rest', async () => {
    const control = (await runOk('dpkg-deb', ['-f', deb])).stdout;
    assert.match(control, /^Depends: nodejs \(>= 20\.19\), sudo, nftables, python3, passwd$/m);
    const files = (await runOk('dpkg-deb', ['-c', deb])).stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split(/\s+/).slice(5).join(' '));
    const dirs = [
      './',
      './usr/',
      './usr/lib/',
      `./usr/lib/${LAYOUT.name}/`,
      './usr/share/',
      './usr/share/man/',
      './usr/share/man/man1/',
    ];
    const outside = files.filter(
      (f) => !f.startsWith(`./usr/lib/${LAYOUT.name}/`) && !dirs.includes(f),
    );
    assert.deepEqual(outside, [`./usr/share/man/man1/${LAYOUT.name}.1.gz`]);
    assert.ok(files.includes(`./usr/lib/${LAYOUT.name}/lib/dist/src/proxy/hubapps-proxy.cjs`));
    assert.ok(
      files.includes(
        `./usr/lib/${LAYOUT.name}/chp/node_modules/configurable-http-proxy/bin/configurable-http-proxy`,
      ),
    );
    assert.ok(
      files.some((f) => f.endsWith('better_sqlite3.node')),
      'the native addon built for this machine',
    );
  });

  it("installs with install.md's apt-get command, and doctor then passes, a start through sudo as a member included", async () => {
    const command = /^(apt-get install) \.\/hubapps_0\.1\.0_amd64\.deb /m.exec(guide)?.[1];
    assert.ok(
      command,
      "docs/install.md's package section has no apt-get install ./hubapps_….deb line",
    );
    const r = await timed('apt-get install', () =>
      runOk('/bin/sh', [
        '-c',
        `DEBIAN_FRONTEND=noninteractive ${command} -y --no-install-recommends "$1"`,
        'sh',
        deb,
      ]),
    );
    assert.match(
      r.stdout,
      new RegExp(`done\\s+sudoers rule /etc/sudoers\\.d/${LAYOUT.name}: .*visudo -cf: ok`),
    );
    assert.ok(await installed());
    await runOk('visudo', ['-c']);
    const man = await runOk('/bin/sh', ['-c', `zcat /usr/share/man/man1/${LAYOUT.name}.1.gz`]);
    assert.match(
      man.stdout,
      /^\.SS install\n\.nf\nusage: hubapps install /m,
      "the man page carries each command's --help",
    );
    await runOk('useradd', ['-m', '-s', '/bin/bash', '-G', LAYOUT.allowedGroup, MEMBER]);
    let chp: RunningChp | undefined;
    try {
      chp = await startChp({ authToken: readFileSync(LAYOUT.chpTokenFile, 'utf8').trim() });
      // Where an admin moves CHP's API: the config and chp.env alike.
      writeFileSync(
        LAYOUT.configFile,
        readFileSync(LAYOUT.configFile, 'utf8').replace(
          'api_url: http://127.0.0.1:8001',
          `api_url: ${chp.apiUrl}`,
        ),
      );
      writeFileSync(
        LAYOUT.chpEnvFile,
        readFileSync(LAYOUT.chpEnvFile, 'utf8').replace(
          /^CHP_API_PORT=.*$/m,
          `CHP_API_PORT=${chp.apiPort}`,
        ),
      );
      const doctor = await timed('doctor', () =>
        run(LAYOUT.cliLink, [
          'doctor',
          '--config',
          LAYOUT.configFile,
          '--unit',
          LAYOUT.unitFile,
          '--member',
          MEMBER,
        ]),
      );
      assert.equal(doctor.code, 0, doctor.stdout + doctor.stderr);
      assert.doesNotMatch(doctor.stdout, /^FAIL/m);
      assert.match(
        doctor.stdout,
        new RegExp(
          `^ok\\s+${LAYOUT.serviceUser} runs ${LAYOUT.proxyPath} as ${MEMBER} through sudo: protocol 1`,
          'm',
        ),
      );
      assert.match(doctor.stdout, /^ok\s+configurable-http-proxy at .* accepts the token/m);
    } finally {
      await chp?.stop();
    }
  });

  it('upgrades over itself: the edited configuration and every token stay, nothing else changes', async () => {
    writeFileSync(
      LAYOUT.configFile,
      `${readFileSync(LAYOUT.configFile, 'utf8')}# edited by the admin\n`,
    );
    const kept = [
      LAYOUT.configFile,
      LAYOUT.chpEnvFile,
      LAYOUT.chpTokenFile,
      LAYOUT.appsChpTokenFile,
      LAYOUT.adminTokenFile,
    ];
    const before = kept.map((f) => readFileSync(f, 'utf8'));
    const r = await timed('upgrade (dpkg -i)', () => runOk('dpkg', ['-i', deb]));
    assert.doesNotMatch(r.stdout, /^\s+done\s/m, r.stdout);
    assert.deepEqual(
      kept.map((f) => readFileSync(f, 'utf8')),
      before,
    );
  });

  it('removes what install made on dpkg -r, keeping the configuration, and the rest on --purge but the accounts', async () => {
    const made = [
      LAYOUT.libRoot,
      LAYOUT.cliLink,
      LAYOUT.unitFile,
      LAYOUT.appsChpUnitFile,
      LAYOUT.chpUnitFile,
      LAYOUT.sudoersFile,
      LAYOUT.guardSudoersFile,
      LAYOUT.sysusersFile,
      LAYOUT.tmpfilesFile,
      LAYOUT.runDir,
    ];
    const state = [LAYOUT.etcDir, LAYOUT.dataDir, LAYOUT.logDir];
    await runOk('dpkg', ['-r', LAYOUT.name]);
    assert.deepEqual(
      made.filter((p) => existsSync(p)),
      [],
    );
    assert.deepEqual(
      state.filter((p) => !existsSync(p)),
      [],
      'remove took configuration, database or logs',
    );
    assert.ok(existsSync(LAYOUT.configFile));
    await runOk('visudo', ['-c']);
    await runOk('dpkg', ['--purge', LAYOUT.name]);
    assert.deepEqual(
      [...made, ...state].filter((p) => existsSync(p)),
      [],
    );
    assert.equal(
      (await run('dpkg-query', ['-W', LAYOUT.name])).code,
      1,
      'dpkg still lists the package',
    );
    assert.ok(
      await exists('passwd', LAYOUT.serviceUser),
      'the service user stays, as docs/install.md says',
    );
  });
});
