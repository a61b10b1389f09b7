import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { COMPILED_DIR, readCompiledApp } from '../../../../src/catalog/compiled-form.js';
import { runCheckConfig } from '../../../../src/ops/check/check-config.js';
import { bufferIo } from '../../../../src/ops/io.js';
import { tmpDir, type TmpDir } from '../../../helpers/index.js';
import { repoRoot } from '../../../system/harness-install.js';

const run = promisify(execFile);

describe('hubapps check-config', () => {
  let dir: TmpDir;
  let catalog: string;
  let config: string;
  let unit: string;
  beforeEach(async () => {
    dir = await tmpDir('check-config');
    catalog = join(dir.path, 'apps.d');
    config = join(dir.path, 'hubapps.yaml');
    unit = join(dir.path, 'hubapps.service');
    mkdirSync(catalog);
    writeFileSync(join(catalog, 'good.yaml'), 'title: Good\ncommand: [/bin/app, "{port}"]\n');
    writeFileSync(join(dir.path, 'chp-token'), 'sekrit\n');
    writeFileSync(unit, `[Service]\nLoadCredential=chp-token:${join(dir.path, 'chp-token')}\n`);
  });
  afterEach(() => dir.remove());

  it('lists every problem of the config and of every app file, and exits 1 (through the real CLI)', async () => {
    writeFileSync(config, `catalog_dir: ${catalog}\nlisten: {port: 99999}\nchp: {apiurl: x}\n`);
    writeFileSync(join(catalog, 'typo.yaml'), 'title: T\ncommand: [/bin/app, "{prot}"]\n');
    writeFileSync(join(catalog, 'empty-cmd.yaml'), 'title: E\ncommand: []\nidle: 5\n');
    const cli = join(repoRoot(), 'dist', 'src', 'cli.js');
    const err = await run(process.execPath, [
      cli,
      'check-config',
      '--config',
      config,
      '--unit',
      unit,
    ]).then(
      () => assert.fail('check-config exited 0'),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    assert.equal(err.code, 1);
    const lines = err.stderr.trim().split('\n');
    assert.ok(
      lines.some((l) => l.startsWith(`${config}: key 'listen.port'`)),
      err.stderr,
    );
    assert.ok(
      lines.some((l) => l.includes("unknown key 'apiurl' (did you mean 'api_url'?)")),
      err.stderr,
    );
    assert.ok(
      lines.some((l) =>
        l.startsWith(
          `${join(catalog, 'typo.yaml')}: key 'command[1]': unknown placeholder '{prot}'`,
        ),
      ),
      err.stderr,
    );
    assert.ok(
      lines.some((l) => l.startsWith(`${join(catalog, 'empty-cmd.yaml')}: key 'command'`)),
      err.stderr,
    );
    assert.ok(
      lines.some(
        (l) =>
          l.startsWith(`${join(catalog, 'empty-cmd.yaml')}: `) && l.includes("unknown key 'idle'"),
      ),
      err.stderr,
    );
    assert.equal(lines.length, 5, err.stderr);
  });

  it('exits 0, names the apps and compiles them for the proxy when all is well, reading credential: secrets through the unit', async () => {
    writeFileSync(config, `catalog_dir: ${catalog}\nchp: {auth_token: "credential:chp-token"}\n`);
    const io = bufferIo();
    assert.equal(await runCheckConfig(['--config', config, '--unit', unit], io), 0, io.stderr);
    assert.equal(
      io.stdout,
      `${config}: ok\n${catalog}: 1 app(s): good\n${join(catalog, '.compiled')}: 1 app(s) compiled for hubapps-proxy\n`,
    );
    assert.equal(readCompiledApp(catalog, 'good')?.title !== undefined, true);
  });

  it("reports an app file whose ports.ranges reach outside the config's user_ports.ranges, naming the file and key", async () => {
    writeFileSync(
      config,
      `catalog_dir: ${catalog}\nchp: {auth_token: "credential:chp-token"}\nuser_ports: {ranges: [8000-8999]}\n`,
    );
    writeFileSync(join(catalog, 'tb.yaml'), 'title: TB\ncommand: [tb]\nports: {ranges: [6006]}\n');
    writeFileSync(
      join(catalog, 'ok.yaml'),
      'title: OK\ncommand: [ok]\nports: {ranges: [8080-8090]}\n',
    );
    const io = bufferIo();
    assert.equal(await runCheckConfig(['--config', config, '--unit', unit], io), 1);
    assert.equal(
      io.stderr,
      `${join(catalog, 'tb.yaml')}: key 'ports.ranges': 6006 lies outside the config's user_ports.ranges (8000-8999): an app file may only narrow them\n`,
    );
  });

  it('reports a secret that cannot be found, naming the key', async () => {
    writeFileSync(config, `catalog_dir: ${catalog}\nchp: {auth_token: "credential:chp-token"}\n`);
    const io = bufferIo();
    assert.equal(
      await runCheckConfig(['--config', config, '--unit', join(dir.path, 'none.service')], io),
      1,
    );
    assert.match(
      io.stderr,
      /key 'chp\.auth_token': 'credential:chp-token' needs \$CREDENTIALS_DIRECTORY/,
    );
  });

  it("passes as a normal user whose credential: secrets are root's files it may not read, and says so; other problems still count", async () => {
    writeFileSync(config, `catalog_dir: ${catalog}\nchp: {auth_token: "credential:chp-token"}\n`);
    chmodSync(join(dir.path, 'chp-token'), 0o600);
    // The way an admin runs it: a normal account; as root, `nobody` stands in for one.
    const root = process.getuid?.() === 0;
    if (root) {
      chmodSync(dir.path, 0o755);
      for (const f of [config, unit, join(catalog, 'good.yaml')]) chmodSync(f, 0o644);
    } else chmodSync(join(dir.path, 'chp-token'), 0o000);
    const cli = join(repoRoot(), 'dist', 'src', 'cli.js');
    const asUser = (args: string[]) =>
      root
        ? run('runuser', ['-u', 'nobody', '--', process.execPath, cli, ...args])
        : run(process.execPath, [cli, ...args]);
    const ok = await asUser(['check-config', '--config', config, '--unit', unit]);
    assert.equal(ok.stderr, '');
    // The catalog's owner also compiles it: the test's own account without root, never nobody.
    const compiled = root
      ? ''
      : `${join(catalog, COMPILED_DIR)}: 1 app(s) compiled for hubapps-proxy\n`;
    assert.equal(
      ok.stdout,
      `${config}: ok (1 secret file(s) exist but only root can read them: chp.auth_token; run as root to check their content)\n${catalog}: 1 app(s): good\n${compiled}`,
    );
    writeFileSync(
      config,
      `catalog_dir: ${catalog}\nchp: {auth_token: "credential:chp-token"}\nadmin_token: "credential:missing"\n`,
    );
    const err = await asUser(['check-config', '--config', config, '--unit', unit]).then(
      () => assert.fail('check-config exited 0'),
      (e: { code: number; stderr: string }) => e,
    );
    assert.equal(err.code, 1);
    assert.match(
      err.stderr,
      /key 'admin_token': 'credential:missing' needs \$CREDENTIALS_DIRECTORY|key 'admin_token': secret file .*missing does not exist/,
    );
    assert.doesNotMatch(err.stderr, /chp\.auth_token/);
  });

  it('does not check the default catalog when catalog_dir itself is wrong', async () => {
    writeFileSync(config, 'catalog_dir: relative/path\n');
    const io = bufferIo();
    assert.equal(await runCheckConfig(['--config', config], io), 1);
    assert.match(io.stderr, /key 'catalog_dir': must be an absolute path/);
    assert.doesNotMatch(io.stderr, /\/etc\/hubapps\/apps\.d/);
  });

  it('reports a config file that does not exist', async () => {
    const io = bufferIo();
    assert.equal(await runCheckConfig(['--config', join(dir.path, 'nope.yaml')], io), 1);
    assert.match(io.stderr, /nope\.yaml: config file not found/);
  });
});
