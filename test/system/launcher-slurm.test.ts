import { join } from 'node:path';
import { HubappsError } from '../../src/errors.js';
import { CallVerifier } from '../../src/protocol/challenge.js';
import type { StartRequest } from '../../src/protocol/wire.js';
import type { Launch } from '../../src/launchers/launcher.js';
import { SlurmLauncher } from '../../src/launchers/slurm-launcher.js';
import { NssUserDirectory } from '../../src/users/nss.js';
import { freePort, requireRootOrSkip, tmpDir, type TmpDir } from '../helpers/index.js';
import { makeSpec, startFakeService, type FakeService } from '../unit/proxy/harness.js';
import { launcherContract } from '../integration/launchers/launcher-contract.js';
import {
  TEST_GROUP,
  TEST_USERS,
  createTestAccounts,
  installCatalog,
  installProxy,
  installService,
  removeTestAccounts,
  type InstalledProxy,
} from './harness.js';
import { cancelTestJobs, ensureCluster, requireSlurm } from './slurm-cluster.js';

const WEB = ['/usr/bin/python3', '-m', 'http.server', '{port}', '--bind', '127.0.0.1'];

describe('system: the slurm launcher keeps the launcher contract (real sudo, real Slurm, installed proxy)', function () {
  this.timeout(120_000);
  let installed: InstalledProxy | undefined;
  let service: FakeService | undefined;
  let logs: TmpDir | undefined;
  /** The launches the launchers under test started, so the fake service can hand announcements to them as the real one does. */
  const started = new Map<number, { launch: Launch; secret: string }>();

  before(async function () {
    requireRootOrSkip(this);
    requireSlurm(this);
    await ensureCluster();
    await createTestAccounts();
    installed = await installProxy();
    await installService(installed);
    await installCatalog(installed.catalogDir, {
      web: {
        title: 'Web',
        command: WEB,
        ready: { timeout: 30 },
        slurm: { mem_mb: 200, time_minutes: 10 },
      },
    });
    service = await startFakeService();
    service.onAnnounce(async (body, authorization) => {
      const entry = started.get(body.serverId);
      if (!entry) return 409;
      // The job's proxy proves the secret with a signed challenge; the secret itself never travels.
      if (
        !new CallVerifier(entry.secret).verify(
          'POST',
          '/services/hubapps/api/internal/announce',
          authorization,
        )
      )
        return 401;
      try {
        if (!entry.launch.announce) return 409;
        await entry.launch.announce(body);
        return 200;
      } catch (err) {
        return err instanceof HubappsError ? err.status : 500;
      }
    });
    logs = await tmpDir('slurm-contract');
  });
  after(async () => {
    await cancelTestJobs();
    await service?.close();
    await installed?.remove();
    await logs?.remove();
    await removeTestAccounts();
  });

  class Recording extends SlurmLauncher {
    override async start(spec: StartRequest, logFile: string): Promise<Launch> {
      const launch = await super.start(spec, logFile);
      started.set(launch.serverId, { launch, secret: spec.secret });
      return launch;
    }
  }

  launcherContract('slurm', () => ({
    // The test cluster's only node is this host, so the job's listener is checked for its owner as a host proxy's is.
    listener: 'local',
    launcher: () =>
      new Recording({
        command: (user) => ({
          file: '/usr/bin/sudo',
          args: ['-n', '-u', user, '--', installed!.proxyPath],
        }),
        via: 'sudo',
        uidOf: async (user) => (await new NssUserDirectory().lookup(user)).uid,
        pendingTimeoutS: 600,
        statusCacheMs: 0,
        allowedGroup: TEST_GROUP,
      }),
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
    readyMs: 60_000,
    killApp: async (appPid) => void process.kill(appPid, 'SIGKILL'),
  }));
});
