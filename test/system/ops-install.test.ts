import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { startChp, type RunningChp } from '../../src/chp/chp-process.js';
import { makeLayout, type Layout } from '../../src/ops/install/layout.js';
import { requireRootOrSkip } from '../helpers/index.js';
import { exists, repoRoot, run, runOk } from './harness.js';
import { snapshot } from './ops-snapshot.js';

/**
 * `hubapps install` on the real machine, not under --root: a complete installation named
 * hubapps-t-[TAG]inst (every path, the service user hubapps-t-[TAG]isvc and the group
 * hubapps-t-[TAG]iusers carry test names), so it can never touch a real hubapps installation.
 * uninstall() removes exactly what the layout names, and runs before (leftovers of a
 * crashed run) and after.
 */
// HUBAPPS_TEST_TAG (validated by the harness) keeps two checkouts running this test at once apart.
const TAG = process.env.HUBAPPS_TEST_TAG ?? '';
const LAYOUT = makeLayout({
  name: `hubapps-t-${TAG}inst`,
  serviceUser: `hubapps-t-${TAG}isvc`,
  allowedGroup: `hubapps-t-${TAG}iusers`,
});
const MEMBER = `hubapps-t-${TAG}imember`;
const INSTALL_ARGS = [
  'install',
  '--name',
  LAYOUT.name,
  '--service-user',
  LAYOUT.serviceUser,
  '--allowed-group',
  LAYOUT.allowedGroup,
];

/** Every file the installation consists of. */
function installedPaths(l: Layout): string[] {
  return [
    l.libRoot,
    l.cliLink,
    l.etcDir,
    l.dataDir,
    l.logDir,
    l.runDir,
    l.unitFile,
    l.appsChpUnitFile,
    l.sudoersFile,
    l.guardSudoersFile,
    l.sysusersFile,
    l.tmpfilesFile,
    l.chpUnitFile,
  ];
}

async function uninstall(l: Layout): Promise<void> {
  for (const path of installedPaths(l)) await rm(path, { recursive: true, force: true });
  if (await exists('passwd', MEMBER)) await runOk('userdel', ['-r', MEMBER]);
  if (await exists('passwd', l.serviceUser)) await runOk('userdel', [l.serviceUser]);
  for (const group of [l.serviceUser, l.allowedGroup, MEMBER])
    if (await exists('group', group)) await runOk('groupdel', [group]);
}

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(repoRoot(), 'dist', 'src', 'cli.js'), ...args],
      (err, stdout, stderr) => {
        resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

describe('hubapps install on the real machine (test names, removed afterwards)', function () {
  this.timeout(120_000);
  let first: string;

  before(async function () {
    requireRootOrSkip(this);
    await uninstall(LAYOUT);
    const r = await cli(INSTALL_ARGS);
    assert.equal(r.code, 0, r.stderr);
    first = r.stdout;
  });
  after(async () => {
    if (process.getuid?.() === 0) await uninstall(LAYOUT);
  });

  it('creates the service user (system, no login shell, home = data dir) and the allowed group', async () => {
    assert.match(
      first,
      new RegExp(`done\\s+create service user ${LAYOUT.serviceUser}: useradd --system`),
    );
    const [, , uid, , , home, shell] = (
      await runOk('getent', ['passwd', LAYOUT.serviceUser])
    ).stdout
      .trim()
      .split(':');
    assert.ok(Number(uid) < 1000);
    assert.equal(home, LAYOUT.dataDir);
    assert.equal(shell, '/usr/sbin/nologin');
    assert.ok(await exists('group', LAYOUT.allowedGroup));
  });

  it('hands the data and log directories to the service user, everything else to root', () => {
    const svcUid = lstatSync(LAYOUT.dataDir).uid;
    assert.notEqual(svcUid, 0);
    assert.equal(lstatSync(LAYOUT.dataDir).mode & 0o777, 0o700);
    assert.equal(lstatSync(LAYOUT.logDir).uid, svcUid);
    const sockets = lstatSync(`${LAYOUT.runDir}/proxies`);
    assert.deepEqual(
      [sockets.uid, sockets.gid, sockets.mode & 0o7777],
      [0, lstatSync(LAYOUT.dataDir).gid, 0o3733],
      "the proxies' socket directory: root, the service's group, setgid + sticky, unlistable",
    );
    const runtime = lstatSync(`${LAYOUT.runDir}/users`);
    assert.deepEqual([runtime.uid, runtime.mode & 0o7777], [0, 0o1733]);
    for (const path of [
      LAYOUT.proxyPath,
      join(LAYOUT.libDir, 'dist/src/proxy/hubapps-proxy.cjs'),
      join(LAYOUT.libDir, 'dist/src/proxy/hubapps-proxy-bundle.cjs'),
      join(LAYOUT.libDir, 'dist/src/proxy/hubapps-proxy-bundle.v8cache'),
      LAYOUT.sudoersFile,
      LAYOUT.unitFile,
    ]) {
      assert.equal(lstatSync(path).uid, 0, path);
      assert.equal(lstatSync(path).mode & 0o022, 0, `${path} is writable by group or others`);
    }
  });

  it('leaves sudo working for the whole machine, with the rule in force', async () => {
    await runOk('visudo', ['-c']);
    const list = await runOk('sudo', ['-n', '-l', '-U', LAYOUT.serviceUser]);
    const flat = list.stdout.replace(/\s+/g, ' ');
    assert.match(
      flat,
      new RegExp(`\\(%${LAYOUT.allowedGroup}, !root, !#0\\) NOPASSWD: ${LAYOUT.proxyPath} ""`),
    );
    assert.match(flat, new RegExp(`Defaults!${LAYOUT.proxyPath} env_reset, !setenv`));
    assert.match(flat, new RegExp(`\\(root\\) NOPASSWD: ${LAYOUT.portGuardPath}`));
    // The service's way to the port guard's helper: sudo, the wrapper, the installed config (read-only here).
    const show = await run('sudo', [
      '-n',
      '-u',
      LAYOUT.serviceUser,
      '--',
      'sudo',
      '-n',
      LAYOUT.portGuardPath,
      'show',
    ]);
    assert.match(
      show.stderr + show.stdout,
      new RegExp(`there is no table inet ${LAYOUT.guardTable}|table inet ${LAYOUT.guardTable} \\{`),
    );
  });

  it('changes nothing when run a second time', async () => {
    const before = snapshot(installedPaths(LAYOUT));
    const again = await cli(INSTALL_ARGS);
    assert.equal(again.code, 0, again.stderr);
    assert.doesNotMatch(again.stdout, /^\s+(done|would|skip)\s/m, again.stdout);
    assert.deepEqual(snapshot(installedPaths(LAYOUT)), before);
  });

  it('passes hubapps doctor, run through the installed CLI, once CHP runs with the installed token', async () => {
    await runOk('useradd', ['-m', '-s', '/bin/bash', '-G', LAYOUT.allowedGroup, MEMBER]);
    const token = readFileSync(LAYOUT.chpTokenFile, 'utf8').trim();
    let chp: RunningChp | undefined;
    try {
      chp = await startChp({ authToken: token });
      const config = readFileSync(LAYOUT.configFile, 'utf8').replace(
        'api_url: http://127.0.0.1:8001',
        `api_url: ${chp.apiUrl}`,
      );
      writeFileSync(LAYOUT.configFile, config);
      // The CHP units' side of the same port, as an admin moving CHP's API would set it.
      const moved = await cli([...INSTALL_ARGS, '--chp-api-port', String(chp.apiPort)]);
      assert.equal(moved.code, 0, moved.stderr);
      assert.match(
        readFileSync(LAYOUT.chpEnvFile, 'utf8'),
        new RegExp(`^CHP_API_PORT=${chp.apiPort}$`, 'm'),
      );
      assert.equal(
        readFileSync(LAYOUT.configFile, 'utf8'),
        config,
        'install changed an existing config',
      );
      const r = await run(LAYOUT.cliLink, [
        'doctor',
        '--config',
        LAYOUT.configFile,
        '--unit',
        LAYOUT.unitFile,
      ]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.doesNotMatch(r.stdout, /^FAIL/m);
      assert.match(
        r.stdout,
        new RegExp(
          `^ok\\s+${LAYOUT.serviceUser} runs ${LAYOUT.proxyPath} as ${MEMBER} through sudo: protocol 1`,
          'm',
        ),
      );
      assert.match(r.stdout, /^ok\s+configurable-http-proxy at .* accepts the token/m);
      assert.match(r.stdout, /^ok\s+\S+ uses the ports the CHP units listen on/m);
      assert.match(r.stdout, /^warn\s+app catalog .* has no apps/m);
      assert.ok(existsSync(join(LAYOUT.dataDir, 'hubapps.sqlite')));
      assert.notEqual(
        lstatSync(join(LAYOUT.dataDir, 'hubapps.sqlite')).uid,
        0,
        'doctor created the database as root',
      );
    } finally {
      await chp?.stop();
    }
  });
});
