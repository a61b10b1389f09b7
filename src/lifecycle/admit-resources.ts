import { checkStartOptions, runsOnSlurm } from '../catalog/slurm.js';
import type { CatalogApp } from '../catalog/types.js';
import type { LifecycleDeps } from './deps.js';
import type { ServerRow } from '../store/servers.js';
import { checkUserTotals, serverResources, type ServerResources } from '../limits/resources.js';

/**
 * A start's options and the host's limits, checked before anything is written: Slurm apps
 * take their job's choices; apps on this host take the choices of their `limits` key, and
 * must fit in what the user's active servers leave of the per-user totals.
 */
export function admitResources(
  deps: LifecycleDeps,
  user: string,
  app: CatalogApp,
  options: Record<string, unknown>,
): void {
  const cfg = deps.config.server_limits;
  if (cfg.cgroups === 'off' || runsOnSlurm(deps.config.slurm.apps, app))
    return checkStartOptions(deps.config.slurm.apps, app, options);
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
    active.map((r) => held(deps, r)),
  );
}

/** What an active server holds, from its options as the catalog reads now; an app since removed or changed counts the defaults. */
function held(deps: LifecycleDeps, row: ServerRow): ServerResources {
  const cfg = deps.config.server_limits;
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
