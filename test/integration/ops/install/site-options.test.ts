import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { lstatSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { configSchema } from '../../../../src/config/schema.js';
import { HubappsError } from '../../../../src/errors.js';
import { runInstall } from '../../../../src/ops/install/install.js';
import { bufferIo } from '../../../../src/ops/io.js';
import { freePort } from '../../../../src/net/ports.js';
import { listensOn } from '../../../../src/procfs/listeners.js';
import { tmpDir, type TmpDir } from '../../../helpers/index.js';
import { waitFor } from '../../../helpers/wait.js';

/** nobody exists on every Debian host; under --root install creates no accounts anyway. */
const ARGS = ['--service-user', 'nobody', '--allowed-group', 'nogroup'];

describe('hubapps install: the ports, addresses and domains a site chooses', () => {
  let dir: TmpDir;
  let root: string;
  beforeEach(async () => {
    dir = await tmpDir('install-site');
    root = join(dir.path, 'root');
  });
  afterEach(() => dir.remove());

  async function install(extra: string[] = []): Promise<string> {
    const io = bufferIo();
    assert.equal(await runInstall(['--root', root, ...ARGS, ...extra], io), 0, io.stderr);
    return io.stdout;
  }
  const read = (p: string) => readFileSync(join(root, p), 'utf8');
  const envOf = () =>
    Object.fromEntries(
      [...read('etc/hubapps/chp.env').matchAll(/^([A-Z_]+)=(.*)$/gm)].map((m) => [m[1], m[2]]),
    );

  it('writes the chosen ports into chp.env and the new config alike, and keeps them on a later run without the options', async () => {
    await install([
      '--chp-port',
      '8100',
      '--chp-api-port',
      '8101',
      '--hub-url',
      'http://127.0.0.1:8181',
      '--apps-chp-port',
      '8102',
      '--apps-chp-api-port',
      '8103',
      '--service-url',
      'http://127.0.0.1:10201',
      '--chp-ip',
      '0.0.0.0',
    ]);
    const want = {
      CHP_IP: '0.0.0.0',
      CHP_PORT: '8100',
      CHP_API_PORT: '8101',
      CHP_HUB_URL: 'http://127.0.0.1:8181',
      APPS_CHP_PORT: '8102',
      APPS_CHP_API_PORT: '8103',
      HUBAPPS_URL: 'http://127.0.0.1:10201',
    };
    assert.deepEqual(envOf(), want);
    const config = configSchema.parse(parse(read('etc/hubapps/hubapps.yaml')));
    assert.equal(config.chp.api_url, 'http://127.0.0.1:8101');
    assert.match(
      read('etc/hubapps/hubapps.yaml'),
      /^#apps_chp:\n# {2}api_url: http:\/\/127\.0\.0\.1:8103$/m,
      'the commented per-server origins keys carry the apps CHP port',
    );
    assert.deepEqual(config.listen, { host: '127.0.0.1', port: 10201 });
    for (const unit of ['configurable-http-proxy.service', 'hubapps-apps-chp.service']) {
      assert.match(
        read(`etc/systemd/system/${unit}`),
        /^EnvironmentFile=-\/etc\/hubapps\/chp\.env$/m,
        unit,
      );
    }
    const again = await install();
    assert.doesNotMatch(again, /^\s+done\s+\/etc\/hubapps\/chp\.env/m);
    assert.deepEqual(envOf(), want, 'a run without the options kept the chosen ports');
    await install(['--chp-port', '8200']);
    assert.deepEqual(
      envOf(),
      { ...want, CHP_PORT: '8200' },
      'an option given again changes only its key',
    );
  });

  it('runs CHP from the unit as systemd would, on the ports chp.env gives', async function () {
    this.timeout(30_000);
    const [port, apiPort] = [await freePort('127.0.0.1'), await freePort('127.0.0.1')];
    await install(['--chp-port', String(port), '--chp-api-port', String(apiPort)]);
    // ExecStart without systemd: its $$ is a literal $, its env comes from chp.env, the credential from a directory.
    const unit = read('etc/systemd/system/configurable-http-proxy.service');
    const exec = /^ExecStart=\/bin\/sh -c '([\s\S]*?)'\n/m
      .exec(unit.replace(/\\\n/g, ''))![1]!
      .replaceAll('$$', '$')
      .replaceAll('/usr/lib/hubapps/chp', join(root, 'usr/lib/hubapps/chp'));
    const creds = join(dir.path, 'creds');
    mkdirSync(creds);
    writeFileSync(join(creds, 'chp-token'), 'unit-token\n');
    const child = spawn('/bin/sh', ['-c', exec], {
      env: { ...envOf(), CREDENTIALS_DIRECTORY: creds, PATH: '/usr/bin:/bin' },
      stdio: 'ignore',
    });
    try {
      await waitFor(
        async () => (await listensOn(child.pid!, port)) && (await listensOn(child.pid!, apiPort)),
        { timeout: 20_000, what: 'CHP on the ports of chp.env' },
      );
      const res = await fetch(`http://127.0.0.1:${apiPort}/api/routes`, {
        headers: { authorization: 'token unit-token' },
      });
      assert.equal(res.status, 200, 'CHP runs with the credential as its token');
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('makes the admin token once (root only), loads it in the unit and names it in the new config', async () => {
    await install();
    assert.equal(
      (lstatSync(join(root, 'etc/hubapps/admin-token')).mode & 0o777).toString(8),
      '600',
    );
    const token = read('etc/hubapps/admin-token');
    assert.match(token, /^[0-9a-f]{64}\n$/);
    assert.match(
      read('etc/systemd/system/hubapps.service'),
      /^LoadCredential=admin-token:\/etc\/hubapps\/admin-token$/m,
    );
    assert.equal(
      configSchema.parse(parse(read('etc/hubapps/hubapps.yaml'))).admin_token,
      'credential:admin-token',
    );
    await install();
    assert.equal(read('etc/hubapps/admin-token'), token, 'install replaced the admin token');
  });

  it('writes the public URL and per-server origins into the new config, and names the apps CHP in the last step', async () => {
    const out = await install([
      '--public-url',
      'https://hub.example.org',
      '--apps-domain',
      'apps-example.org',
      '--apps-port',
      '8443',
    ]);
    const config = configSchema.parse(parse(read('etc/hubapps/hubapps.yaml')));
    assert.equal(config.public_url, 'https://hub.example.org');
    assert.equal(config.apps_domain, 'apps-example.org');
    assert.equal(config.apps_port, 8443);
    assert.equal(config.apps_chp.auth_token, 'credential:apps-chp-token');
    assert.match(
      out,
      /systemctl enable --now configurable-http-proxy\.service hubapps-apps-chp\.service hubapps/,
    );
    assert.match(
      await install(),
      /hubapps-apps-chp\.service hubapps/,
      'a later run without the option still names the apps CHP',
    );
  });

  it('refuses a bad value naming the option, and a bad chp.env naming the file and key, writing nothing', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--chp-port', '80000'], /--chp-port: '80000' is not a port/],
      [['--chp-ip', 'example.org'], /--chp-ip: 'example\.org' is not an IP address/],
      [['--hub-url', 'http://127.0.0.1:8081/hub/'], /--hub-url: .* no path/],
      [['--public-url', 'hub.example.org'], /--public-url: 'hub\.example\.org'/],
      [
        ['--apps-domain', 'Apps.Example'],
        /--apps-domain: 'Apps\.Example': must be a lower-case DNS name/,
      ],
      [['--apps-port', '8443'], /--apps-port: only goes with --apps-domain/],
    ];
    for (const [extra, message] of cases) {
      await assert.rejects(
        runInstall(['--root', root, ...ARGS, ...extra], bufferIo()),
        (err: unknown) => err instanceof HubappsError && message.test(err.message),
        extra.join(' '),
      );
    }
    assert.throws(() => lstatSync(root), /ENOENT/, 'a refused install wrote something');
    await install();
    writeFileSync(join(root, 'etc/hubapps/chp.env'), 'CHP_PORT=eighty\n');
    await assert.rejects(
      runInstall(['--root', root, ...ARGS], bufferIo()),
      /etc\/hubapps\/chp\.env: key CHP_PORT: 'eighty' is not a port/,
    );
  });
});
