import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalLauncher } from '../../../src/spawner/local-launcher.js';
import { echoApp } from '../proxy/apps.js';
import { Catalog, makeSpec, startFakeService, type FakeService } from '../proxy/harness.js';
import { freePort } from '../../helpers/index.js';
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
    const spec = makeSpec({ catalog, service, app: 'echo', serverId: 90, name: 'flags' }, await freePort());
    const handle = await launcher.start(spec, join(catalog.dir, 'flags.log'));
    try {
      const argv = readFileSync(`/proc/${handle.pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
      assert.equal(argv[0], process.execPath);
      assertRunsWithNodeFlags(argv);
    } finally {
      await launcher.stop(handle, { graceMs: 1000 });
    }
  });

  launcherContract('local', () => ({
    listener: 'socket',
    launcher: () => new LocalLauncher(catalog.dir, catalog.dir),
    spec: async (serverId) => makeSpec({ catalog, service, app: 'echo', serverId, name: `echo${serverId}` }, await freePort()),
    logFile: join(catalog.dir, 'contract.log'),
    readyMs: 15_000,
    killApp: async (appPid) => void process.kill(appPid, 'SIGKILL'),
  }), { socketProxies: true });
});
