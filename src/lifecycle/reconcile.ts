import {
  serverRouteData,
  type HubappsRouteData,
  type RouteEntry,
  type RouteTable,
} from '../chp/route-table.js';
import { capLog } from '../store/server-logs.js';
import type { ServerRow } from '../store/servers.js';
import { logFailedStart } from './failure-log.js';
import type { LifecycleDeps } from './deps.js';
import { bestEffort } from './best-effort.js';
import { cullerFor, cullReason } from './culler.js';
import { latest, recordActivity } from './activity.js';
import type { ServerManager } from './manager.js';
import type { Launches } from './launches.js';
import { wantedPortRoutes } from './port-routes.js';
import { hubStarted } from './hub-start.js';

const CULLER = { name: 'culler', admin: true };

export interface ReconcileReport {
  checked: number;
  culled: number;
  routesAdded: number;
  routesRemoved: number;
  markedGone: number;
  adopted: number;
  chpReachable: boolean;
  ms: number;
}

/**
 * One pass that makes the world match the database, trusting neither: each live row's
 * proxy is asked (by its secret) whether it still runs; CHP's hubapps routes are compared
 * with the running rows. `adopting` is the first pass after the service (re)starts: rows
 * left in pending/starting/stopping by a previous instance are settled here.
 */
export async function reconcile(
  deps: LifecycleDeps,
  manager: ServerManager,
  adopting = false,
): Promise<ReconcileReport> {
  const t0 = performance.now();
  const report: ReconcileReport = {
    checked: 0,
    culled: 0,
    routesAdded: 0,
    routesRemoved: 0,
    markedGone: 0,
    adopted: 0,
    chpReachable: true,
    ms: 0,
  };
  const tables =
    deps.serverRoutes === deps.routes ? [deps.routes] : [deps.routes, deps.serverRoutes];
  const seen = await Promise.all(
    tables.map((table) =>
      table.list().catch((err: unknown) => {
        report.chpReachable = false;
        deps.log.warn(
          { err: (err as Error).message },
          'reconcile: a CHP is not reachable; its routes are fixed on a later pass',
        );
        return null;
      }),
    ),
  );
  const rows = deps.store.active().filter((r) => !manager.busy.has(r.id));
  const verified = new Set<number>();
  await Promise.all(rows.map((row) => settle(deps, manager, row, adopting, report, verified)));
  await Promise.all(
    tables.map((table, i) =>
      seen[i]
        ? fixRoutes(deps, manager.launches, table, seen[i], manager.busy, verified, report)
        : undefined,
    ),
  );
  // Tokens of servers that ended while the service was down, or whose deletion the hub refused before.
  await deps.hubTokens?.sweep();
  report.ms = Math.round(performance.now() - t0);
  deps.metrics.reconcileDuration.observe(report.ms / 1000);
  if (report.routesAdded) deps.metrics.routeFixes.inc({ action: 'added' }, report.routesAdded);
  if (report.routesRemoved)
    deps.metrics.routeFixes.inc({ action: 'removed' }, report.routesRemoved);
  return report;
}

async function settle(
  deps: LifecycleDeps,
  manager: ServerManager,
  row: ServerRow,
  adopting: boolean,
  report: ReconcileReport,
  verified: Set<number>,
): Promise<void> {
  report.checked++;
  if (row.state === 'stopping') {
    await manager.finishStop(row, 'stop finished after a service restart');
    return;
  }
  const probe = await manager.launches.of(row).probe();
  if (row.state === 'running') {
    if (probe.answering) {
      verified.add(row.id);
      const r = probe.report!;
      if (adopting) report.adopted++;
      if (r.pid !== row.proxy_pid || r.appPid !== row.app_pid)
        deps.store.update(row.id, { proxy_pid: r.pid, app_pid: r.appPid });
      if (r.lastActivity) recordActivity(deps, row, r.lastActivity);
      if (row.log_file) capLog(row.log_file, deps.config.log_max_bytes);
      // Read again: the proxy's report was just recorded, and the app may have reported since.
      const stored = deps.store.byId(row.id)?.last_activity ?? row.last_activity;
      const why = cullReason(
        { ...row, last_activity: latest(stored, r.lastActivity) },
        deps.catalog().get(row.app),
        await cullerFor(deps, row.user),
      );
      if (why) {
        report.culled++;
        deps.metrics.culls.inc({ reason: why.startsWith('idle') ? 'idle' : 'max_age' });
        deps.log.info({ server: row.id, user: row.user, name: row.name, why }, 'culling');
        void manager
          .stop(CULLER, row.user, row.name, `culled: ${why}`)
          .catch((err: unknown) => deps.log.error({ err, server: row.id }, 'cull failed'));
      }
      return;
    }
    if (probe.alive) {
      deps.log.warn(
        { server: row.id, user: row.user, name: row.name },
        'reconcile: proxy alive but not answering; left for the next pass',
      );
      return;
    }
    report.markedGone++;
    // A launcher that knows why (a job out of memory or time) says so; otherwise the log tail explains.
    const why =
      probe.ended?.reason ??
      (adopting ? 'the server was gone when the service restarted' : "the server's proxy is gone");
    await manager.markGone(row, why);
    return;
  }
  // pending/starting rows without a watcher: a previous service instance died mid-start.
  if (probe.alive)
    await bestEffort(
      deps.log,
      'reconcile: stopping an interrupted start',
      { server: row.id },
      manager.launches.of(row).stop(),
    );
  report.markedGone++;
  const reason = 'the service restarted while this server was starting; start it again';
  const failed = deps.store.transition(row.id, 'failed', {
    from: ['pending', 'starting'],
    fields: { reason },
    message: 'interrupted start cleaned up',
  });
  manager.launches.drop(row.id);
  if (failed) logFailedStart(deps.log, row, 'start_interrupted', reason);
}

/** `fillIn`: added only where CHP has no route at all, whoever's (one another program may own). */
type Wanted = Map<
  string,
  { target: string; data: HubappsRouteData; verified: boolean; fillIn?: boolean }
>;

/**
 * The routes hubapps keeps in `table`: server routes where servers live, the catch-alls and
 * the service route where they belong. A server route counts as verified only for a server
 * whose proxy proved itself in this pass (the secret's challenge, and the listener's owner where
 * the launcher can check it on this host).
 */
function wantedRoutes(
  deps: LifecycleDeps,
  launches: Launches,
  table: RouteTable,
  verified: Set<number>,
): Wanted {
  const want: Wanted = new Map();
  if (table === deps.serverRoutes) {
    for (const row of deps.store.list({ states: ['running'] })) {
      // The hub routes the servers it started: their /user/ routes are not hubapps' to keep.
      if (hubStarted(row)) continue;
      const target = launches.of(row).routeTarget();
      if (!target) continue;
      want.set(deps.urls.serverRoute(row.user, row.name), {
        target,
        data: serverRouteData(row),
        verified: verified.has(row.id),
      });
    }
    for (const [path, w] of wantedPortRoutes(deps, launches, verified)) want.set(path, w);
    // The apps CHP's root: every host without a server route lands on the service's not-running
    // page. A CHP started with --default-target (the shipped unit) holds "/" itself, untagged,
    // with the same effect: that one is left alone, silently.
    if (deps.urls.hostLayout)
      want.set('/', {
        target: deps.urls.serviceOrigin,
        data: { hubapps: true, kind: 'catchall' },
        verified: true,
        fillIn: true,
      });
  }
  if (table === deps.routes) {
    want.set(deps.urls.catchallRoute(), {
      target: deps.urls.serviceOrigin,
      data: { hubapps: true, kind: 'catchall' },
      verified: true,
    });
    if (deps.config.chp.register_service_route)
      want.set(deps.urls.serviceRoute(), { ...serviceRoute(deps), verified: true });
  }
  return want;
}

function serviceRoute(deps: LifecycleDeps): { target: string; data: HubappsRouteData } {
  return { target: deps.urls.serviceOrigin, data: { hubapps: true, kind: 'service' } };
}

/**
 * Routes follow the running rows: add what is missing, drop hubapps server and port routes
 * nobody runs (a port's route is wanted while its server runs and its forward is recorded),
 * keep the fixed ones. A port taken over by someone else while the row still says
 * running gets no route back.
 */
async function fixRoutes(
  deps: LifecycleDeps,
  launches: Launches,
  table: RouteTable,
  routes: Map<string, RouteEntry>,
  busy: Set<number>,
  verified: Set<number>,
  report: ReconcileReport,
): Promise<void> {
  const want = wantedRoutes(deps, launches, table, verified);
  const tasks: Promise<void>[] = [];
  if (
    table === deps.routes &&
    !deps.config.chp.register_service_route &&
    !routes.has(deps.urls.serviceRoute())
  ) {
    tasks.push(fillInServiceRoute(deps, serviceRoute(deps), report));
  }
  for (const [path, w] of want) {
    const have = routes.get(path);
    if (w.fillIn && !have) {
      tasks.push(
        table
          .addIfAbsent(path, w.target, w.data)
          .then((added) => void (added && report.routesAdded++)),
      );
    } else if (
      w.verified &&
      (!have ||
        have.target !== w.target ||
        have.data.serverId !== w.data.serverId ||
        have.data.kind !== w.data.kind)
    ) {
      report.routesAdded++;
      tasks.push(table.add(path, w.target, w.data));
    }
  }
  for (const [path, have] of routes) {
    // A watched start adds its route just before it turns 'running': not stale.
    if (
      !want.has(path) &&
      (have.data.kind === 'server' || have.data.kind === 'port') &&
      !busy.has(have.data.serverId ?? -1)
    ) {
      report.routesRemoved++;
      tasks.push(table.remove(path));
    }
  }
  const results = await Promise.allSettled(tasks);
  const failures = results.flatMap((r) =>
    r.status === 'rejected' ? [(r.reason as Error).message] : [],
  );
  const before = lastFailures.get(table) ?? new Set<string>();
  for (const err of failures) {
    // A failure that persists is warned about once, not every reconcile_interval.
    if (before.has(err)) deps.log.debug({ err }, 'reconcile: route change failed again');
    else deps.log.warn({ err }, 'reconcile: route change failed');
  }
  lastFailures.set(table, new Set(failures));
}

/** Per route table, the route changes that failed in its last pass. */
const lastFailures = new WeakMap<RouteTable, Set<string>>();

/**
 * JupyterHub owns the service route and puts it back only at its next route check
 * (last_activity_interval, 5 minutes by default), so after a CHP restart the launcher would
 * be unreachable until then. hubapps fills the gap: it adds the route only while CHP has
 * none at that path. JupyterHub ignores routes without its own tag and simply replaces this
 * one at its next check; hubapps never replaces or removes the hub's, so the two never fight.
 */
async function fillInServiceRoute(
  deps: LifecycleDeps,
  route: { target: string; data: HubappsRouteData },
  report: ReconcileReport,
): Promise<void> {
  if (!(await deps.routes.addIfAbsent(deps.urls.serviceRoute(), route.target, route.data))) return;
  report.routesAdded++;
  deps.log.info(
    { route: deps.urls.serviceRoute() },
    'reconcile: CHP had no route for the service (restarted?): filled it in until JupyterHub re-adds its own',
  );
}
