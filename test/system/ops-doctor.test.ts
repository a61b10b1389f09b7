import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { createHostDirs, hostDirsFor, removeServiceState } from './harness-state.js';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startChp, type RunningChp } from '../../src/chp/chp-process.js';
import { freePort } from '../helpers/ports.js';
import { requirePrerequisite, requireRootOrSkip, waitFor } from '../helpers/index.js';
import { DEFAULT_MIN_UID } from '../../src/config/schema.js';
import { proxyArgs } from '../../src/proxy/command-line.js';
import {
  TEST_GROUP,
  TEST_USERS,
  createTestAccounts,
  installCatalog,
  installProxy,
  removeTestAccounts,
  repoRoot,
  runOk,
  writeSudoers,
  type InstalledProxy,
} from './harness.js';

const { svc, alice, mallory } = TEST_USERS;
const CHP_ENV = 'HUBAPPS_T_DOCTOR_CHP';

interface RunningHub {
  apiUrl: string;
  stop(): Promise<void>;
}

/**
 * Debian's JupyterHub (3.0) behind the test's CHP, with two services: hubapps, whose role
 * grants users:activity, and bare, which has no scopes. Starts in about two seconds.
 */
async function startHub(
  chp: RunningChp,
  chpToken: string,
  dir: string,
  tokens: { scoped: string; bare: string },
): Promise<RunningHub> {
  const port = await freePort();
  const config = join(dir, 'jupyterhub_config.py');
  await writeFile(
    config,
    [
      `c.JupyterHub.hub_bind_url = 'http://127.0.0.1:${port}'`,
      `c.JupyterHub.bind_url = '${chp.proxyUrl}'`,
      'c.ConfigurableHTTPProxy.should_start = False',
      `c.ConfigurableHTTPProxy.api_url = '${chp.apiUrl}'`,
      `c.ConfigurableHTTPProxy.auth_token = '${chpToken}'`,
      `c.JupyterHub.db_url = 'sqlite:///${join(dir, 'jupyterhub.sqlite')}'`,
      `c.JupyterHub.cookie_secret_file = '${join(dir, 'cookie_secret')}'`,
      "c.JupyterHub.authenticator_class = 'dummy'",
      `c.JupyterHub.services = [{'name': 'hubapps', 'api_token': '${tokens.scoped}'}, {'name': 'bare', 'api_token': '${tokens.bare}'}]`,
      "c.JupyterHub.load_roles = [{'name': 'hubapps-service', 'scopes': ['users:activity'], 'services': ['hubapps']}]",
      '',
    ].join('\n'),
  );
  const child = spawn('jupyterhub', ['-f', config], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const apiUrl = `http://127.0.0.1:${port}/hub/api`;
  const stop = async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
  };
  try {
    await waitFor(async () => (await fetch(`${apiUrl}/`)).ok, {
      timeout: 30_000,
      interval: 200,
      what: 'JupyterHub to answer',
    });
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}; its log ends with:\n${log}`, { cause: err });
  }
  return { apiUrl, stop };
}

interface DoctorRun {
  code: number;
  out: string;
}

/** The report line for `pattern` and the lines under it, up to the next check. */
function entry(out: string, status: 'ok' | 'FAIL' | 'warn', pattern: RegExp): string[] {
  const lines = out.split('\n');
  const at = lines.findIndex((l) => l.startsWith(`${status.padEnd(5)} `) && pattern.test(l));
  assert.ok(at >= 0, `no "${status}" line matching ${pattern} in:\n${out}`);
  const end = lines.findIndex((l, i) => i > at && /^(ok|FAIL|warn) /.test(l));
  return lines.slice(at, end < 0 ? undefined : end);
}

/** A FAIL line matching `pattern`, followed by its fix line; the exit status is 1. */
function assertFails(run: DoctorRun, pattern: RegExp, fix: RegExp): void {
  assert.equal(run.code, 1, run.out);
  const block = entry(run.out, 'FAIL', pattern);
  const fixLine = block.find((l) => l.startsWith('  fix: '));
  assert.ok(fixLine, `no fix line under ${block[0]}`);
  assert.match(fixLine, fix);
}

describe('hubapps doctor (root, checking as hubapps-t-svc, with real sudo and CHP)', function () {
  this.timeout(120_000);
  let proxy: InstalledProxy;
  let chp: RunningChp;
  let removeRule: () => Promise<void>;
  let state = '';
  let configFile = '';
  let config: Record<string, unknown>;
  let svcUid = 0;
  const chpToken = randomBytes(18).toString('base64url');

  before(async function () {
    requireRootOrSkip(this);
    await createTestAccounts();
    const root = `/opt/hubapps-t-${randomBytes(4).toString('hex')}`;
    // The wrapper's arguments as hubapps install writes them.
    proxy = await installProxy({
      root,
      catalogDir: join(root, 'apps.d'),
      proxyArgs: proxyArgs(join(root, 'apps.d'), {
        allowedGroup: TEST_GROUP,
        minUid: DEFAULT_MIN_UID,
      }),
    });
    await installCatalog(proxy.catalogDir, {
      files: { title: 'Files', command: ['/usr/bin/python3', '-m', 'http.server', '{port}'] },
    });
    removeRule = await writeSudoers(svc, TEST_GROUP, proxy.proxyPath);
    chp = await startChp({ authToken: chpToken });
    state = await mkdtemp('/tmp/hubapps-t-doctor-');
    await chmod(state, 0o755);
    svcUid = Number((await runOk('id', ['-u', svc])).stdout);
    for (const dir of ['data', 'logs']) {
      await mkdir(join(state, dir), { mode: 0o700 });
      await chown(join(state, dir), svcUid, svcUid);
    }
    await createHostDirs(state, Number((await runOk('id', ['-g', svc])).stdout));
    configFile = join(state, 'hubapps.yaml');
    config = {
      data_dir: join(state, 'data'),
      log_dir: join(state, 'logs'),
      ...hostDirsFor(state),
      catalog_dir: proxy.catalogDir,
      allowed_group: TEST_GROUP,
      proxy_command: proxy.proxyPath,
      chp: { api_url: chp.apiUrl, auth_token: `env:${CHP_ENV}` },
    };
    await writeFile(configFile, stringify(config));
  });

  after(async () => {
    if (process.getuid?.() !== 0) return;
    await chp?.stop();
    await removeRule?.();
    await proxy?.remove();
    if (state) await removeServiceState(state);
    await removeTestAccounts();
  });

  /** Run the real CLI as root, checking on behalf of the test service user. */
  function doctor(
    args: string[] = [],
    overrides: Record<string, unknown> = {},
  ): Promise<DoctorRun> {
    return new Promise((resolve, reject) => {
      const file =
        Object.keys(overrides).length === 0
          ? configFile
          : `${configFile}.${randomBytes(3).toString('hex')}.yaml`;
      const write =
        file === configFile
          ? Promise.resolve()
          : writeFile(file, stringify({ ...config, ...overrides }));
      write.then(() => {
        const cli = join(repoRoot(), 'dist', 'src', 'cli.js');
        const argv = [
          cli,
          'doctor',
          '--config',
          file,
          '--as',
          svc,
          '--unit',
          join(state, 'none.service'),
          ...args,
        ];
        execFile(
          process.execPath,
          argv,
          { env: { ...process.env, [CHP_ENV]: chpToken } },
          (err, stdout, stderr) => {
            const code = err ? Number((err as { code?: unknown }).code ?? 1) : 0;
            if (stderr.trim()) return reject(new Error(`doctor wrote to stderr: ${stderr}`));
            resolve({ code, out: stdout });
          },
        );
      }, reject);
    });
  }

  it('passes a good installation: every check ok, JupyterHub only warned about, exit 0', async () => {
    const run = await doctor();
    assert.equal(run.code, 0, run.out);
    assert.doesNotMatch(run.out, /^FAIL/m);
    for (const pattern of [
      /^ok\s+config .* is valid$/m,
      /^ok\s+app catalog .*: 1 app\(s\): files$/m,
      new RegExp(`^ok\\s+service user ${svc} `, 'm'),
      new RegExp(`^ok\\s+data_dir .* \\(${svc}, 0700\\)$`, 'm'),
      /^ok\s+log_dir /m,
      new RegExp(`^ok\\s+database .* opens as ${svc}, schema \\d+ \\(up to date\\)$`, 'm'),
      /^ok\s+configurable-http-proxy at .* accepts the token/m,
      /^warn\s+JupyterHub not configured/m,
      new RegExp(`^ok\\s+allowed group ${TEST_GROUP} `, 'm'),
      /^ok\s+sudoers rule: .*NOPASSWD/m,
      /^ok\s+sudo does not require a terminal/m,
      /^ok\s+sudo resets the proxy's environment/m,
      /^ok\s+sudo secure_path /m,
      new RegExp(
        `^ok\\s+owners of active servers: none outside ${TEST_GROUP} \\(0 user\\(s\\) with active servers\\)$`,
        'm',
      ),
      new RegExp(`^ok\\s+${svc} runs .* as ${alice} through sudo: protocol 1`, 'm'),
      /^ok\s+proxy wrapper .*: root-owned/m,
      /^ok\s+node \/usr\/bin\/node: root-owned/m,
      /^ok\s+program files under .*: root-owned/m,
      /^ok\s+the proxy wrapper starts node with a clean environment and the proxy checks itself/m,
      /^ok\s+app catalog .*: root-owned/m,
      new RegExp(
        `^ok\\s+app programs found \\(as ${alice} would run them\\)\\n +files: /usr/bin/python3$`,
        'm',
      ),
    ]) {
      assert.match(run.out, pattern);
    }
  });

  describe('fails with a fix line for each broken variant', () => {
    it('an invalid config', async () => {
      assertFails(
        await doctor([], { chp: { apiurl: 'x' } }),
        /config .*: 1 problem/,
        /edit .*hubapps check-config/,
      );
    });

    it('a bad app file, named', async () => {
      const bad = join(proxy.catalogDir, 'typo.yaml');
      await writeFile(bad, 'title: T\ncommand: [/bin/x, "{prot}"]\n', { mode: 0o644 });
      try {
        const run = await doctor();
        assertFails(
          run,
          /app catalog .*: 1 bad file\(s\): .*typo\.yaml/,
          /fix or remove the files named/,
        );
        assert.match(
          entry(run.out, 'FAIL', /app catalog/).join('\n'),
          /unknown placeholder '\{prot\}'/,
        );
      } finally {
        await rm(bad);
      }
    });

    it('a service user that does not exist', async () => {
      assertFails(
        await doctor(['--as', 'hubapps-t-nosuch']),
        /service user hubapps-t-nosuch does not exist/,
        /hubapps install creates it/,
      );
    });

    it('a data_dir not owned by the service user', async () => {
      await chown(join(state, 'data'), 0, 0);
      try {
        assertFails(
          await doctor(),
          new RegExp(`data_dir .* is owned by uid 0, not by ${svc}`),
          new RegExp(`chown ${svc}: .* chmod 0700`),
        );
      } finally {
        await chown(join(state, 'data'), svcUid, svcUid);
      }
    });

    it('a log_dir other users can read', async () => {
      await chmod(join(state, 'logs'), 0o755);
      try {
        assertFails(
          await doctor(),
          /log_dir .* has mode 0755: other users can read or change it/,
          /chmod 0700/,
        );
      } finally {
        await chmod(join(state, 'logs'), 0o700);
      }
    });

    it('a damaged database', async () => {
      const other = join(state, 'broken');
      await mkdir(other, { mode: 0o700 });
      await chown(other, svcUid, svcUid);
      await writeFile(
        join(other, 'hubapps.sqlite'),
        'this is not a database, it only has its name'.repeat(200),
        { mode: 0o600 },
      );
      await chown(join(other, 'hubapps.sqlite'), svcUid, svcUid);
      assertFails(
        await doctor([], { data_dir: other }),
        new RegExp(`database .* does not open as ${svc}: .*not a database`),
        /restore it from a backup/,
      );
    });

    it('a CHP token CHP does not accept', async () => {
      process.env.HUBAPPS_T_DOCTOR_WRONG = 'wrong';
      const run = await doctor([], {
        chp: { api_url: chp.apiUrl, auth_token: 'env:HUBAPPS_T_DOCTOR_WRONG' },
      });
      assertFails(
        run,
        /configurable-http-proxy at .* refuses the token/,
        /chp\.auth_token must be the CONFIGPROXY_AUTH_TOKEN/,
      );
    });

    it('a CHP that does not answer', async () => {
      const closed = await freePort();
      assertFails(
        await doctor([], {
          chp: { api_url: `http://127.0.0.1:${closed}`, auth_token: `env:${CHP_ENV}` },
        }),
        /configurable-http-proxy at .* does not answer/,
        /start CHP/,
      );
    });

    it('a JupyterHub that does not answer', async () => {
      const closed = await freePort();
      const run = await doctor([], {
        jupyterhub: { api_url: `http://127.0.0.1:${closed}/hub/api`, api_token: `env:${CHP_ENV}` },
      });
      assertFails(
        run,
        /JupyterHub API at .* does not answer/,
        /start JupyterHub or correct jupyterhub\.api_url/,
      );
    });

    describe('against a real JupyterHub', () => {
      let hub: RunningHub | undefined;
      const tokens = {
        scoped: randomBytes(18).toString('hex'),
        bare: randomBytes(18).toString('hex'),
      };
      before(async function () {
        requirePrerequisite(
          this,
          existsSync('/usr/bin/jupyterhub'),
          'needs JupyterHub (Debian package jupyterhub)',
        );
        const dir = join(state, 'hub');
        await mkdir(dir);
        hub = await startHub(chp, chpToken, dir, tokens);
      });
      after(async () => hub?.stop());
      const withToken = (token: string) => {
        process.env.HUBAPPS_T_DOCTOR_HUB = token;
        return { jupyterhub: { api_url: hub!.apiUrl, api_token: 'env:HUBAPPS_T_DOCTOR_HUB' } };
      };

      it('passes a service token with the scopes hubapps needs', async () => {
        const run = await doctor([], withToken(tokens.scoped));
        assert.equal(run.code, 0, run.out);
        entry(run.out, 'ok', /JupyterHub at .* accepts the token \(service hubapps\)/);
        entry(run.out, 'ok', /the service token has the scopes hubapps needs \(users:activity\)/);
      });

      it('a service token JupyterHub does not know', async () => {
        assertFails(
          await doctor([], withToken('not-a-hub-token')),
          /JupyterHub at .* does not accept the service token \(403\)/,
          /api_token of the hubapps service in jupyterhub_config\.py/,
        );
      });

      it('a service token without users:activity', async () => {
        assertFails(
          await doctor([], withToken(tokens.bare)),
          /the service token lacks the scope\(s\) users:activity/,
          /give the hubapps service a role with these scopes/,
        );
      });

      it('a service token without the tokens scope, with jupyterhub.server_tokens_from_hub on', async () => {
        const config = withToken(tokens.scoped);
        assertFails(
          await doctor([], {
            jupyterhub: { ...config.jupyterhub, server_tokens_from_hub: true },
          }),
          /the service token lacks the scope\(s\) tokens/,
          /jupyterhub\.server_tokens_from_hub/,
        );
      });
    });

    it('an allowed group that does not exist', async () => {
      assertFails(
        await doctor([], { allowed_group: 'hubapps-t-nogroup' }),
        /allowed group hubapps-t-nogroup does not exist/,
        /groupadd hubapps-t-nogroup/,
      );
    });

    it('no sudoers rule', async () => {
      await removeRule();
      try {
        const run = await doctor();
        assertFails(run, new RegExp(`sudo has no rule for ${svc}`), /install the rule/);
        assertFails(
          run,
          new RegExp(`${svc} runs .* through sudo: refused \\("a password is required"\\)`),
          /is the rule .* in force/,
        );
      } finally {
        removeRule = await writeSudoers(svc, TEST_GROUP, proxy.proxyPath);
      }
    });

    it('a rule that asks for a password', async () => {
      await removeRule();
      const file = `/etc/sudoers.d/hubapps-t-pw${randomBytes(3).toString('hex')}`;
      await writeFile(
        `${file}.draft`,
        `${svc} ALL=(%${TEST_GROUP},!root) ${proxy.proxyPath} ""\n`,
        { mode: 0o440 },
      );
      await runOk('visudo', ['-cf', `${file}.draft`]);
      await rename(`${file}.draft`, file);
      try {
        assertFails(await doctor(), /the sudoers rule for .* asks for a password/, /add NOPASSWD:/);
      } finally {
        await rm(file, { force: true });
        removeRule = await writeSudoers(svc, TEST_GROUP, proxy.proxyPath);
      }
    });

    it('requiretty', async () => {
      const file = `/etc/sudoers.d/hubapps-t-tty${randomBytes(3).toString('hex')}`;
      await writeFile(`${file}.draft`, `Defaults:${svc} requiretty\n`, { mode: 0o440 });
      await runOk('visudo', ['-cf', `${file}.draft`]);
      await rename(`${file}.draft`, file);
      try {
        const run = await doctor();
        assertFails(
          run,
          new RegExp(`sudo requires a terminal \\(requiretty\\) for ${svc}`),
          new RegExp(`Defaults:${svc} !requiretty`),
        );
        assertFails(run, /through sudo: sudo wants a terminal/, /!requiretty/);
      } finally {
        await rm(file, { force: true });
      }
    });

    it("sudo settings that hand the caller's environment to the proxy", async () => {
      // sudo reads /etc/sudoers.d in name order and the later Defaults! wins: 'z' sorts after
      // the hex name of the test's own rule file, whose env_reset would otherwise win 1 time in 16.
      const file = `/etc/sudoers.d/hubapps-t-zenv${randomBytes(3).toString('hex')}`;
      await writeFile(
        `${file}.draft`,
        `Defaults:${svc} env_keep += "NODE_OPTIONS"\nDefaults!${proxy.proxyPath} !env_reset\n`,
        { mode: 0o440 },
      );
      await runOk('visudo', ['-cf', `${file}.draft`]);
      await rename(`${file}.draft`, file);
      try {
        assertFails(
          await doctor(),
          /sudo settings that let the caller shape the proxy's environment: !env_reset .*env_keep keeps NODE_OPTIONS/,
          /Defaults!.* env_reset, !setenv/,
        );
      } finally {
        await rm(file, { force: true });
      }
    });

    it("an active server of a user no longer in the allowed group, named while the members' servers pass", async () => {
      const db = join(state, 'data', 'hubapps.sqlite');
      const insert = (user: string, name: string) =>
        runOk('sudo', [
          '-u',
          svc,
          '--',
          'python3',
          '-c',
          `import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute("INSERT INTO servers (user, name, app, state, created_at, updated_at) VALUES (?, ?, 'files', 'running', '2026-01-01', '2026-01-01')", (sys.argv[2], sys.argv[3])); c.commit()`,
          db,
          user,
          name,
        ]);
      await insert(alice, 'lab');
      await insert(mallory, 'old');
      try {
        const run = await doctor();
        assertFails(
          run,
          new RegExp(
            `active servers of users no longer in ${TEST_GROUP}: ${mallory} \\(old\\)$`,
            'm',
          ),
          /DELETE .*api\/users\/USER\/servers\/NAME/,
        );
        assert.doesNotMatch(entry(run.out, 'FAIL', /active servers/).join('\n'), new RegExp(alice));
      } finally {
        await runOk('sudo', [
          '-u',
          svc,
          '--',
          'python3',
          '-c',
          'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute("DELETE FROM servers"); c.commit()',
          db,
        ]);
      }
    });

    it('a config whose min_uid or allowed group the proxy wrapper does not enforce', async () => {
      assertFails(
        await doctor([], { min_uid: 2000 }),
        /the proxy wrapper .* does not hold the proxy to the config: --min-uid is 1000, min_uid 2000/,
        /run hubapps install again/,
      );
    });

    it('a member sudo will not run the proxy for', async () => {
      assertFails(
        await doctor(['--member', mallory]),
        new RegExp(`runs .* as ${mallory} through sudo: refused`),
        new RegExp(`is ${mallory} in ${TEST_GROUP}`),
      );
    });

    it('program files the group may change', async () => {
      const main = join(proxy.root, 'lib', 'dist', 'src', 'proxy', 'hubapps-proxy.js');
      await chmod(main, 0o664);
      try {
        const run = await doctor();
        assertFails(
          run,
          /program files under .*: 1 unsafe or unusable path/,
          /chown root:root PATH && chmod go-w/,
        );
        assert.match(
          entry(run.out, 'FAIL', /program files/).join('\n'),
          /hubapps-proxy\.js: writable by its group/,
        );
      } finally {
        await chmod(main, 0o644);
      }
    });

    it('an app file the service user owns', async () => {
      const file = join(proxy.catalogDir, 'files.yaml');
      await chown(file, svcUid, svcUid);
      try {
        assertFails(await doctor(), /app catalog .*: 1 unsafe or unusable path/, /chown root:root/);
      } finally {
        await chown(file, 0, 0);
      }
    });

    it('a proxy wrapper only root can read', async () => {
      await chmod(proxy.proxyPath, 0o700);
      try {
        assertFails(
          await doctor(),
          /proxy wrapper .*: 1 unsafe or unusable path/,
          /hubapps install lays these out/,
        );
      } finally {
        await chmod(proxy.proxyPath, 0o755);
      }
    });

    it("an app whose program does not exist, looked up as the user's proxy would: in the app's PATH, {home} expanded for a member", async () => {
      const home = (await runOk('getent', ['passwd', alice])).stdout.split(':')[5]!;
      await installCatalog(proxy.catalogDir, {
        ghost: { title: 'Ghost', command: ['hubapps-t-no-such-program', '{port}'] },
        mine: { title: 'Mine', command: ['{home}/bin/hubapps-t-app', '{port}'] },
        pathed: {
          title: 'Own PATH',
          command: ['python3', '-m', 'http.server', '{port}'],
          environment: { PATH: '{home}/bin' },
        },
      });
      try {
        const run = await doctor();
        assertFails(
          run,
          /app ghost: program hubapps-t-no-such-program does not exist in PATH \/usr\/local\/bin:\/usr\/bin:\/bin$/m,
          /install it, or correct command in .*ghost\.yaml/,
        );
        assertFails(
          run,
          new RegExp(`app mine: program ${home}/bin/hubapps-t-app does not exist$`, 'm'),
          /correct command in .*mine\.yaml/,
        );
        assertFails(
          run,
          new RegExp(`app pathed: program python3 does not exist in PATH ${home}/bin$`, 'm'),
          /pathed\.yaml/,
        );
        assert.match(
          entry(run.out, 'ok', /app programs found/).join('\n'),
          /files: \/usr\/bin\/python3/,
        );
      } finally {
        for (const name of ['ghost', 'mine', 'pathed'])
          await rm(join(proxy.catalogDir, `${name}.yaml`));
      }
    });

    it('an app program the user may not run', async () => {
      const program = join(proxy.root, 'private-app');
      await writeFile(program, '#!/bin/sh\n', { mode: 0o700 });
      await installCatalog(proxy.catalogDir, {
        private: { title: 'Private', command: [program, '{port}'] },
      });
      try {
        assertFails(
          await doctor(),
          new RegExp(`app private: ${program} is not executable by ${alice}$`, 'm'),
          /chmod a\+rx/,
        );
      } finally {
        await rm(join(proxy.catalogDir, 'private.yaml'));
        await rm(program);
      }
    });

    it('a proxy that reads another catalog than the service', async () => {
      const other = join(proxy.root, 'other.d');
      await installCatalog(other, { files: { title: 'Files', command: ['/bin/true'] } });
      assertFails(
        await doctor([], { catalog_dir: other }),
        /the proxy reads apps from .*apps\.d .* but the service from .*other\.d/,
        /make them the same/,
      );
    });
  });
});
