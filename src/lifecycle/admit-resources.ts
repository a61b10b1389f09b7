import { checkStartOptions, runsOnSlurm } from '../catalog/slurm.js';
import type { CatalogApp } from '../catalog/types.js';
import type { LifecycleDeps } from './deps.js';
import type { ServerRow } from '../store/servers.js';
import {
  checkUserTotals,
  serverResources,
  type ServerLimitsConfig,
  type ServerResources,
} from '../limits/resources.js';

/**
 * A start's options and the host's limits (`cfg`: server_limits as the user's groups set
 * them), checked before anything is written: Slurm apps take their job's choices; apps on
 * this host take the choices of their `limits` key, and must fit in what the user's active
 * servers leave of the per-user totals. Returns what the server's cgroup gets.
 */
export function admitResources(
  deps: LifecycleDeps,
  user: string,
  app: CatalogApp,
  options: Record<string, unknown>,
  cfg: ServerLimitsConfig,
): ServerResources | undefined {
  if (cfg.cgroups === 'off' || runsOnSlurm(deps.config.slurm.apps, app)) {
    checkStartOptions(deps.config.slurm.apps, app, options);
    return undefined;
  }
  const wanted = serverResources(cfg, app, options);
  const active = deps.store
    .active()
    .filter(
      (r) => r.user === user && !runsOnSlurm(deps.config.slurm.apps, deps.catalog().get(r.app)),
    );
  checkUserTotals(
    cfg,
    user,
    wanted,
    active.map((r) => held(deps, cfg, r)),
  );
  return wanted;
}

/** What an active server holds, from its options as the catalog reads now; an app since removed or changed counts the defaults. */
function held(deps: LifecycleDeps, cfg: ServerLimitsConfig, row: ServerRow): ServerResources {
  try {
    return serverResources(
      cfg,
      deps.catalog().get(row.app) ?? { name: row.app },
      JSON.parse(row.options) as Record<string, unknown>,
    );
  } catch {
    return { memMb: cfg.mem_mb, cpus: cfg.cpus, pids: cfg.pids };
  }
}
