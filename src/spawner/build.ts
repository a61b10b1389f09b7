import { runsOnSlurm } from '../catalog/slurm.js';
import type { CatalogApp } from '../catalog/types.js';
import type { Config } from '../config/schema.js';
import type { UserDirectory } from '../users/account.js';
import { CgroupLauncher } from './cgroup-launcher.js';
import type { HostLimits } from '../limits/host-limits.js';
import type { Launcher, LauncherKind } from './launcher.js';
import { LauncherSet } from './launcher-set.js';
import { LocalLauncher, PROXY_MAIN } from './local-launcher.js';
import { SlurmLauncher } from './slurm-launcher.js';
import { SudoLauncher } from './sudo-launcher.js';
import { ensureLocalDirs, hostDirs } from './host-dirs.js';

/** The host's launcher (sudo or local, inside per-server cgroups when `limits` is given), and the Slurm launcher beside it when slurm.apps names any app. */
export function buildLauncher(config: Config, directory: UserDirectory, app: (name: string) => CatalogApp | undefined, limits?: HostLimits | null): Launcher {
  const dirs = hostDirs(config);
  if (config.launcher === 'local') ensureLocalDirs(dirs);
  const bare =
    config.launcher === 'sudo'
      ? new SudoLauncher(config.sudo_command, config.proxy_command, directory, dirs.proxySockets)
      : new LocalLauncher(config.catalog_dir, dirs.proxySockets);
  const host = limits ? new CgroupLauncher(bare, limits) : bare;
  if (config.slurm.apps.length === 0) return host;
  const slurm = new SlurmLauncher({
    command:
      config.launcher === 'sudo'
        ? (user) => ({ file: config.sudo_command, args: ['-n', '-u', user, '--', config.proxy_command] })
        : () => ({ file: process.execPath, args: [PROXY_MAIN, '--catalog-dir', config.catalog_dir] }),
    via: config.launcher,
    uidOf: config.launcher === 'sudo' ? async (user) => (await directory.lookup(user)).uid : async () => process.getuid!(),
    serviceUrl: config.slurm.service_url,
    pendingTimeoutS: config.slurm.pending_timeout,
    statusCacheMs: config.slurm.status_cache_ms,
    allowedGroup: config.allowed_group,
  });
  return new LauncherSet(host, [slurm], (name): LauncherKind => (runsOnSlurm(config.slurm.apps, app(name)) ? 'slurm' : host.kind));
}
