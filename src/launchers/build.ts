import { runsOnSlurm } from '../catalog/slurm.js';
import type { CatalogApp } from '../catalog/types.js';
import type { Config } from '../config/schema.js';
import type { UserDirectory } from '../users/account.js';
import { CgroupLauncher } from './cgroup-launcher.js';
import { GuardedLauncher } from './guarded-launcher.js';
import type { PortGuard } from '../limits/port-guard.js';
import type { HostLimits } from '../limits/host-limits.js';
import type { Launcher, LauncherKind } from './launcher.js';
import { LauncherSet } from './launcher-set.js';
import { LocalLauncher } from './local-launcher.js';
import { localCommand, sudoCommand, type Command } from './proxy-command.js';
import { SlurmLauncher, type SlurmLauncherOptions } from './slurm-launcher.js';
import { SudoLauncher } from './sudo-launcher.js';
import { ensureLocalDirs, hostDirs } from './host-dirs.js';

/**
 * The host's launcher (sudo or local, inside per-server cgroups when `limits` is given, its
 * apps' ports guarded when `guard` is), and the Slurm launcher beside it when slurm.apps
 * names any app.
 */
export function buildLauncher(
  config: Config,
  directory: UserDirectory,
  app: (name: string) => CatalogApp | undefined,
  limits?: HostLimits | null,
  guard?: PortGuard | null,
): Launcher {
  const dirs = hostDirs(config);
  if (config.launcher === 'local') ensureLocalDirs(dirs);
  const bare =
    config.launcher === 'sudo'
      ? new SudoLauncher(config.sudo_command, config.proxy_command, directory, dirs.proxySockets)
      : new LocalLauncher(config.catalog_dir, dirs.proxySockets);
  const limited = limits ? new CgroupLauncher(bare, limits) : bare;
  const host = guard ? new GuardedLauncher(limited, guard, directory) : limited;
  if (config.slurm.apps.length === 0) return host;
  const slurm = new SlurmLauncher(slurmOptions(config, directory));
  return new LauncherSet(host, [slurm], (name): LauncherKind =>
    runsOnSlurm(config.slurm.apps, app(name)) ? 'slurm' : host.kind,
  );
}

/** The Slurm launcher's options: it runs the proxy (submit, status, cancel) as the host launcher does. */
export function slurmOptions(config: Config, directory: UserDirectory): SlurmLauncherOptions {
  return {
    command: proxyRunner(config),
    via: config.launcher,
    uidOf:
      config.launcher === 'sudo'
        ? async (user) => (await directory.lookup(user)).uid
        : async () => process.getuid!(),
    serviceUrl: config.slurm.service_url,
    pendingTimeoutS: config.slurm.pending_timeout,
    statusCacheMs: config.slurm.status_cache_ms,
    allowedGroup: config.allowed_group,
  };
}

/** How this configuration runs hubapps-proxy as `user`: sudo and the installed wrapper, or (local mode) node itself. */
export function proxyRunner(
  config: Pick<Config, 'launcher' | 'sudo_command' | 'proxy_command' | 'catalog_dir'>,
): (user: string) => Command {
  return config.launcher === 'sudo'
    ? (user) => sudoCommand(config.sudo_command, config.proxy_command, user)
    : () => localCommand(config.catalog_dir);
}
