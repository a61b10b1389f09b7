import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalLauncher } from '../../../src/launchers/local-launcher.js';
import {
  PROXY_ESM_MAIN,
  PROXY_MAIN,
  proxyArgs,
  proxyCommandLine,
  spawnCommand,
} from '../../../src/proxy/command-line.js';
import { echoApp } from '../proxy/apps.js';
import { Catalog, makeSpec, startFakeService, type FakeService } from '../../unit/proxy/harness.js';
import { freePort } from '../../helpers/index.js';
import { waitFor } from '../../helpers/wait.js';
import { assertRunsWithNodeFlags } from '../../helpers/node-flags.js';
import { launcherContract } from './launcher-contract.js';

describe('the local launcher (demo and tests: the proxy as the service user, no sudo)', function () {
  this.timeout(30_000);
  let catalog: Catalog;
  let service: FakeService;
  before(async () => {
    catalog = await Catalog.create();
    service = await startFakeService();
    echoApp(catalog, 'echo');
  });
  after(async () => {
    await service.close();
    await catalog.remove();
  });

  it("runs the proxy's node with the V8 flags: its /proc cmdline has them before the entry point", async () => {
    const launcher = new LocalLauncher(catalog.dir, catalog.dir);
    const spec = makeSpec(
      { catalog, service, app: 'echo', serverId: 90, name: 'flags' },
      await freePort(),
    );
    const launch = await launcher.start(spec, join(catalog.dir, 'flags.log'));
    try {
      const argv = readFileSync(`/proc/${launch.pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
      assert.equal(argv[0], process.execPath);
      assertRunsWithNodeFlags(argv);
    } finally {
      await launch.stop({ graceMs: 1000 });
    }
  });

  it('counts the process it spawned as running while /proc shows a command line without the proxy (a wrapper that has yet to exec it)', async () => {
    // The cgroup wrapper is such a process, and /proc shows no command line at all while it
    // execs: a probe then read a starting server as gone and failed its start.
    const launcher = new LocalLauncher(catalog.dir, catalog.dir);
    const script = join(catalog.dir, 'late-exec.sh');
    launcher.wrapCommand = (_id, cmd) => {
      writeFileSync(
        script,
        `sleep 1\nexec ${[cmd.file, ...cmd.args].map((a) => `'${a}'`).join(' ')}\n`,
      );
      return { file: '/bin/sh', args: [script] };
    };
    const spec = makeSpec(
      { catalog, service, app: 'echo', serverId: 91, name: 'late' },
      await freePort(),
    );
    const launch = await launcher.start(spec, join(catalog.dir, 'late.log'));
    try {
      const argv = readFileSync(`/proc/${launch.pid}/cmdline`, 'utf8');
      assert.ok(!argv.includes('proxy/main.js'), `the wrapper already shows the proxy: ${argv}`);
      const early = await launch.probe();
      assert.deepEqual([early.launched, early.answering, launch.exit()], [true, false, undefined]);
      const ready = await waitFor(async () => (await launch.probe()).report?.state === 'ready', {
        timeout: 15_000,
        what: 'the proxy behind the wrapper to be ready',
      });
      assert.ok(ready);
    } finally {
      await launch.stop({ graceMs: 1000 });
    }
    const gone = await launch.probe();
    assert.deepEqual([gone.launched, gone.alive], [false, false]);
    assert.notEqual(launch.exit(), undefined, 'the exit of its own child is known');
  });

  it('re-adopts a proxy an earlier build started (the ES module bundle, before the code cache): it answers, and stop ends it', async () => {
    class EarlierBuild extends LocalLauncher {
      protected override command() {
        return spawnCommand(proxyCommandLine(proxyArgs(catalog.dir), { main: PROXY_ESM_MAIN }));
      }
    }
    const spec = makeSpec(
      { catalog, service, app: 'echo', serverId: 92, name: 'earlier' },
      await freePort(),
    );
    const launch = await new EarlierBuild(catalog.dir, catalog.dir).start(
      spec,
      join(catalog.dir, 'earlier.log'),
    );
    try {
      const argv = readFileSync(`/proc/${launch.pid}/cmdline`, 'utf8').split('\0');
      assert.ok(argv.includes(PROXY_ESM_MAIN) && !argv.includes(PROXY_MAIN), argv.join(' '));
      await waitFor(async () => (await launch.probe()).report?.state === 'ready', {
        timeout: 15_000,
        what: "the earlier build's proxy to be ready",
      });
      const restored = new LocalLauncher(catalog.dir, catalog.dir).restore(
        {
          serverId: 92,
          user: launch.user,
          port: launch.port,
          kind: launch.kind,
          secret: spec.secret,
        },
        launch.save(),
      );
      const probe = await restored.probe();
      assert.deepEqual([probe.answering, probe.launched], [true, true]);
      await restored.stop({ graceMs: 1000 });
      const after = await restored.probe();
      assert.deepEqual([after.answering, after.alive], [false, false]);
    } finally {
      await launch.kill();
    }
  });

  launcherContract(
    'local',
    () => ({
      listener: 'socket',
      launcher: () => new LocalLauncher(catalog.dir, catalog.dir),
      spec: async (serverId) =>
        makeSpec(
          { catalog, service, app: 'echo', serverId, name: `echo${serverId}` },
          await freePort(),
        ),
      logFile: join(catalog.dir, 'contract.log'),
      readyMs: 15_000,
      killApp: async (appPid) => void process.kill(appPid, 'SIGKILL'),
    }),
    { socketProxies: true },
  );
});
