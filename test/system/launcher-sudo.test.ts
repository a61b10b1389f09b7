import { join } from 'node:path';
import { SudoLauncher } from '../../src/launchers/sudo-launcher.js';
import { NssUserDirectory } from '../../src/users/nss.js';
import { requireRootOrSkip, tmpDir, freePort, type TmpDir } from '../helpers/index.js';
import { makeSpec, startFakeService, type FakeService } from '../unit/proxy/harness.js';
import { launcherContract } from '../integration/launchers/launcher-contract.js';
import {
  TEST_USERS,
  createTestAccounts,
  installCatalog,
  installProxy,
  installService,
  removeTestAccounts,
  type InstalledProxy,
} from './harness.js';
import { APPS } from './system-stack.js';
import { createServiceState, hostDirsFor, removeServiceState } from './harness-state.js';

describe('system: the sudo launcher keeps the launcher contract (real sudo, real test user, installed proxy)', function () {
  this.timeout(60_000);
  let installed: InstalledProxy | undefined;
  let service: FakeService | undefined;
  let logs: TmpDir | undefined;
  let state: string | undefined;
  before(async function () {
    requireRootOrSkip(this);
    await createTestAccounts();
    installed = await installProxy();
    // installProxy copies what proxy/main.js imports statically; the service's install adds the rest (yaml).
    await installService(installed);
    await installCatalog(installed.catalogDir, { web: APPS.web });
    service = await startFakeService();
    logs = await tmpDir('sudo-contract');
    state = await createServiceState({});
  });
  after(async () => {
    await service?.close();
    await installed?.remove();
    await logs?.remove();
    if (state) await removeServiceState(state);
    await removeTestAccounts();
  });

  // The test runs as root, so this proves the launcher's side of the contract with real sudo
  // and a real user; the sudoers rule itself is proved by the core system tests.
  launcherContract(
    'sudo',
    () => ({
      listener: 'socket',
      launcher: () =>
        new SudoLauncher(
          '/usr/bin/sudo',
          installed!.proxyPath,
          new NssUserDirectory(),
          hostDirsFor(state!).proxy_socket_dir,
        ),
      spec: async (serverId) =>
        makeSpec(
          {
            catalog: undefined as never,
            service: service!,
            app: 'web',
            user: TEST_USERS.alice,
            name: `web${serverId}`,
            serverId,
          },
          await freePort(),
        ),
      logFile: join(logs!.path, 'contract.log'),
      readyMs: 20_000,
      killApp: async (appPid) => void process.kill(appPid, 'SIGKILL'),
    }),
    { socketProxies: true },
  );
});
