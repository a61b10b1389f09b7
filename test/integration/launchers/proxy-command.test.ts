import assert from 'node:assert/strict';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../../src/config/load.js';
import type { ConfigInput } from '../../../src/config/schema.js';
import {
  PROXY_MAIN,
  proxyArgs,
  proxyCommandLine,
  spawnCommand,
} from '../../../src/proxy/command-line.js';
import { slurmOptions } from '../../../src/launchers/build.js';
import { LocalLauncher } from '../../../src/launchers/local-launcher.js';
import { proxyEnvironment } from '../../../src/launchers/proxy-command.js';
import { SlurmLauncher } from '../../../src/launchers/slurm-launcher.js';
import { SudoLauncher } from '../../../src/launchers/sudo-launcher.js';
import type { StartRequest } from '../../../src/protocol/wire.js';
import { tmpDir } from '../../helpers/tmp.js';
import type { UserDirectory } from '../../../src/users/account.js';
import { assertRunsWithNodeFlags } from '../../helpers/node-flags.js';

const PROXY = '/opt/hubapps/bin/hubapps-proxy';
const directory: UserDirectory = {
  lookup: async (name) => ({
    name,
    uid: 4242,
    gid: 4242,
    home: `/home/${name}`,
    shell: '/bin/sh',
    groups: ['hubapps-users'],
  }),
};

function config(overrides: Partial<ConfigInput>) {
  return loadConfig(
    undefined,
    {
      chp: { auth_token: 'env:T_PROXY_COMMAND' },
      catalog_dir: '/srv/apps.d',
      proxy_command: PROXY,
      slurm: { apps: ['web'] },
      ...overrides,
    },
    { T_PROXY_COMMAND: 't' },
  );
}

/** The launchers' protected command and environment, as spawn gets them. */
class LocalPeek extends LocalLauncher {
  peek(user: string) {
    return { command: this.command(user), env: this.environment() };
  }
}
class SudoPeek extends SudoLauncher {
  peek(user: string) {
    return { command: this.command(user), env: this.environment() };
  }
}

describe('how the service runs hubapps-proxy, launcher by launcher', () => {
  it('runs the local proxy with node, the V8 flags, the entry point and the catalog', () => {
    const { command } = new LocalPeek('/srv/apps.d', '/run/hubapps/proxies').peek('alice');
    assert.deepEqual(command, spawnCommand(proxyCommandLine(proxyArgs('/srv/apps.d'))));
    assert.equal(command.file, process.execPath);
    assertRunsWithNodeFlags(command.args);
  });

  it('runs exactly `sudo -n -u USER -- PROXY` for a host server: the sudoers rule allows no arguments (the wrapper holds the flags)', () => {
    const { command } = new SudoPeek(
      '/usr/bin/sudo',
      PROXY,
      directory,
      '/run/hubapps/proxies',
    ).peek('alice');
    assert.deepEqual(command, { file: '/usr/bin/sudo', args: ['-n', '-u', 'alice', '--', PROXY] });
  });

  it('submits Slurm jobs in sudo mode through the same `sudo -n -u USER -- PROXY`', () => {
    const { command, via } = slurmOptions(config({ launcher: 'sudo' }), directory);
    assert.equal(via, 'sudo');
    assert.deepEqual(command('alice'), {
      file: '/usr/bin/sudo',
      args: ['-n', '-u', 'alice', '--', PROXY],
    });
  });

  it('submits Slurm jobs in local mode with the same command line as a local host proxy, V8 flags included', () => {
    const { command, via } = slurmOptions(config({ launcher: 'local' }), directory);
    assert.equal(via, 'local');
    assert.deepEqual(
      command('alice'),
      new LocalPeek('/srv/apps.d', '/run/hubapps/proxies').peek('alice').command,
    );
    assertRunsWithNodeFlags(command('alice').args);
  });

  it('gives every proxy the same minimal environment; only local host proxies keep HOME', () => {
    const base = {
      PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      LANG: process.env.LANG ?? 'C.UTF-8',
    };
    assert.deepEqual(proxyEnvironment(), base);
    assert.deepEqual(
      new SudoPeek('/usr/bin/sudo', PROXY, directory, '/run').peek('alice').env,
      base,
    );
    assert.deepEqual(new LocalPeek('/srv/apps.d', '/run').peek('alice').env, {
      ...base,
      HOME: process.env.HOME ?? '/',
    });
  });

  it("gives the Slurm launcher's proxy runs that same environment", async () => {
    const tmp = await tmpDir('proxy-env');
    try {
      // Stands in for the proxy: prints its environment to the log and fails the submit.
      const fake = join(tmp.path, 'proxy');
      writeFileSync(fake, '#!/bin/sh\nenv >&2\nexit 1\n');
      chmodSync(fake, 0o755);
      const log = join(tmp.path, 'server.log');
      const launcher = new SlurmLauncher({
        ...slurmOptions(config({ launcher: 'local' }), directory),
        command: () => ({ file: fake, args: [] }),
      });
      const spec = {
        server: { id: 7, user: 'alice', name: 'web' },
        app: 'web',
        port: 40123,
        secret: 's3cret',
      } as unknown as StartRequest;
      await assert.rejects(launcher.start(spec, log));
      const env = readFileSync(log, 'utf8')
        .split('\n')
        .filter(
          (l) =>
            /^[A-Z_]+=/.test(l) &&
            !l.startsWith('PWD=') &&
            !l.startsWith('SHLVL=') &&
            !l.startsWith('_='),
        );
      assert.deepEqual(
        Object.fromEntries(
          env.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
        ),
        proxyEnvironment(),
      );
    } finally {
      await tmp.remove();
    }
  });
});

describe('the node-flags check the launch-path tests use', () => {
  it('fails a command line that runs the proxy without the V8 flags', () => {
    assert.throws(
      () => assertRunsWithNodeFlags([PROXY_MAIN, '--catalog-dir', '/srv/apps.d']),
      /node flags/,
    );
    assert.throws(() => assertRunsWithNodeFlags(['--liftoff-only', PROXY_MAIN]), /node flags/);
    assert.throws(
      () => assertRunsWithNodeFlags(['--catalog-dir', '/srv/apps.d']),
      /no .*hubapps-proxy\.cjs/,
    );
  });
});
