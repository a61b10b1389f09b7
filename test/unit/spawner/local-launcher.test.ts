import { join } from 'node:path';
import { LocalLauncher } from '../../../src/spawner/local-launcher.js';
import { echoApp } from '../proxy/apps.js';
import { Catalog, makeSpec, startFakeService, type FakeService } from '../proxy/harness.js';
import { freePort } from '../../helpers/index.js';
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

  launcherContract('local', () => ({
    listener: 'socket',
    launcher: () => new LocalLauncher(catalog.dir, catalog.dir),
    spec: async (serverId) => makeSpec({ catalog, service, app: 'echo', serverId, name: `echo${serverId}` }, await freePort()),
    logFile: join(catalog.dir, 'contract.log'),
    readyMs: 15_000,
    killApp: async (appPid) => void process.kill(appPid, 'SIGKILL'),
  }));
});
