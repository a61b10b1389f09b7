import { HubappsError } from '../errors.js';
import type { ServerName, UserName } from '../names.js';
import { removeLogFile, tailLog } from '../store/server-logs.js';
import { pickPort } from '../net/ports.js';
import type { Announcement, ExitInfo } from '../launchers/launcher.js';
import { ACTIVE_STATES, type ServerRow } from '../store/servers.js';
import { serverRouteData } from '../chp/route-table.js';
import type { LifecycleDeps } from './deps.js';
import { logFailedStart } from './failure-log.js';
import { addServerRoute } from './publish-route.js';
import { bestEffort } from './best-effort.js';
import { Launches, savedLaunch } from './launches.js';
import type { ServerResources } from '../limits/resources.js';
import {
  admitStart,
  claimRow,
  issueServerToken,
  mayActOn,
  startRequest,
  type Actor,
  type StartInput,
} from './start.js';
import { watchStart } from './watch-start.js';
import { hubStarted, readyTimeout } from './hub-start.js';
import type { HubBinding } from '../protocol/wire.js';
import { recordActivity } from './activity.js';
import { removePortRoutes } from './port-routes.js';
import { ServerPorts } from './user-ports.js';

const MAX_PORT_RETRIES = 3;

/** How an admitted start is spawned, again when it retries on another port. */
interface SpawnHow {
  readyTimeoutS: number | undefined;
  /** The cgroup admitted for the user (absent: a Slurm job, or cgroups off). */
  resources: ServerResources | undefined;
  /** A hub-started server's binding, its hub token included: kept in memory for the retries only. */
  hub?: HubBinding;
}

/**
 * Starts and stops servers. Every decision is a guarded state transition in SQLite
 * (`transition(..., {from})`), so a stop racing a start, or reconcile racing both, ends
 * in one consistent state without in-memory locks.
 */
export class ServerManager {
  /** Servers this process is starting or stopping right now: reconcile leaves them alone. */
  readonly busy = new Set<number>();
  /** The launch of each server: kept while this process runs it, else restored from its row. */
  readonly launches: Launches;
  /** Users' own ports of the servers: their routes, forwards and listings. */
  readonly ports: ServerPorts;
  private closed = false;

  constructor(private readonly deps: LifecycleDeps) {
    this.launches = new Launches(deps.launcher);
    this.ports = new ServerPorts(deps, this.launches);
    deps.launcher.onExit?.(
      (serverId: number, info: ExitInfo) => void this.onProcessExit(serverId, info),
    );
  }

  /** Admit, record and spawn; resolves with the row in 'starting' while readiness is followed in the background. */
  async start(
    actor: Actor,
    user: UserName,
    name: ServerName,
    input: StartInput,
  ): Promise<ServerRow> {
    const admitted = await admitStart(this.deps, actor, user, name, input);
    const { app, settings, resources, form } = admitted;
    const row = await claimRow(
      this.deps,
      actor,
      user,
      name,
      { ...input, form },
      app,
      settings.servers_per_user,
    );
    this.busy.add(row.id);
    try {
      const how: SpawnHow = {
        readyTimeoutS: readyTimeout(this.deps, app, input.hub),
        resources,
        ...(input.hub ? { hub: input.hub.binding } : {}),
      };
      const started = await this.spawn(row, how);
      void this.follow(started, how, 0);
      return started;
    } catch (err) {
      this.busy.delete(row.id);
      this.fail(
        row,
        err instanceof HubappsError ? err.message : 'the server could not be spawned',
        err instanceof HubappsError ? err.code : 'spawn_failed',
        err,
      );
      throw err;
    }
  }

  private async spawn(row: ServerRow, how: SpawnHow): Promise<ServerRow> {
    const apiToken = await issueServerToken(this.deps, row);
    const launch = await this.deps.launcher.start(
      startRequest(this.deps, row, { ...how, apiToken }),
      row.log_file!,
    );
    const started = this.deps.store.transition(row.id, 'starting', {
      from: ['pending'],
      fields: savedLaunch(launch),
      message: `spawned via ${launch.kind} launcher`,
    });
    if (!started) {
      await bestEffort(
        this.deps.log,
        'stopping an aborted start',
        { server: row.id },
        launch.stop({ routeRemoved: true }),
      );
      throw new HubappsError('start_aborted', 'the server was stopped while it was starting');
    }
    this.launches.add(launch);
    return started;
  }

  private async follow(row: ServerRow, how: SpawnHow, retries: number): Promise<void> {
    const timeoutMs = (how.readyTimeoutS ?? this.deps.config.spawn_timeout) * 1000;
    try {
      const outcome = await watchStart(this.deps, this.launches, row, timeoutMs);
      if (outcome.kind === 'superseded') return;
      if (outcome.kind === 'failed') {
        if (outcome.failure.retry && retries < MAX_PORT_RETRIES)
          return await this.retryOnNewPort(row, how, retries);
        // Also when the watch saw the process gone: a stop of a gone process costs one refused
        // connection, and anything of it that still ran (a proxy whose sudo was killed) ends.
        await bestEffort(
          this.deps.log,
          'stopping a failed start',
          { server: row.id },
          this.launches.of(row).stop({ routeRemoved: true }),
        );
        this.fail(row, outcome.failure.reason, outcome.failure.code);
        return;
      }
      await this.publish(row);
    } catch (err) {
      await bestEffort(
        this.deps.log,
        'stopping a failed start',
        { server: row.id },
        this.launches.of(row).stop(),
      );
      this.fail(
        row,
        err instanceof HubappsError
          ? err.message
          : 'internal error while starting; see the service log',
        err instanceof HubappsError ? err.code : 'internal',
        err,
      );
    } finally {
      this.busy.delete(row.id);
    }
  }

  private async retryOnNewPort(row: ServerRow, how: SpawnHow, retries: number): Promise<void> {
    const used = this.deps.store.usedPorts();
    const port = await pickPort(this.deps.config.port_range, used);
    // Which of a hub server's two ports was taken is not known: both move.
    const appPort =
      row.app_port === null
        ? null
        : await pickPort(this.deps.config.port_range, new Set([...used, port]));
    this.deps.store.update(row.id, { port, ...(appPort === null ? {} : { app_port: appPort }) });
    this.deps.store.progress(row, `port ${row.port} was taken, retrying on ${port}`);
    const fresh = this.deps.store.transition(row.id, 'pending', {
      from: ['starting'],
      message: 'retrying on another port',
    });
    if (!fresh) return;
    const started = await this.spawn(fresh, how);
    this.busy.add(row.id);
    await this.follow(started, how, retries + 1);
  }

  /**
   * Ready: route it in CHP, then mark it running; a stop that came first wins and the route
   * goes again. The hub routes its servers itself.
   */
  private async publish(started: ServerRow): Promise<void> {
    const row = this.deps.store.byId(started.id) ?? started;
    const route = hubStarted(row) ? null : await this.addRoute(row);
    const running = this.deps.store.transition(row.id, 'running', {
      from: ['starting'],
      message: 'ready',
    });
    if (!running && route)
      return bestEffort(
        this.deps.log,
        'removing the route of a server stopped while it became ready',
        { server: row.id, route },
        this.deps.serverRoutes.remove(route),
      );
    if (!running) return;
    this.deps.metrics.spawnDuration.observe(
      { app: row.app },
      (Date.parse(running.ready_at!) - Date.parse(running.started_at!)) / 1000,
    );
  }

  /** Route a ready server in CHP; returns the route's path. */
  private async addRoute(row: ServerRow): Promise<string> {
    const route = this.deps.urls.serverRoute(row.user, row.name);
    const target = this.launches.of(row).routeTarget();
    if (!target)
      throw new HubappsError(
        'no_route_target',
        'the server reported ready but its address is not known',
      );
    await addServerRoute(this.deps, route, target, serverRouteData(row));
    return route;
  }

  private fail(row: ServerRow, reason: string, code: string, err?: unknown): void {
    this.launches.drop(row.id);
    const failed = this.deps.store.transition(row.id, 'failed', {
      from: ['pending', 'starting'],
      fields: { reason },
      message: reason,
    });
    if (!failed) return;
    void this.deps.hubTokens?.sweep();
    this.deps.metrics.spawnFailures.inc({ reason: code });
    logFailedStart(this.deps.log, row, code, reason, err);
  }

  /** Stop a server and wait until its processes and route are gone. Stopping a stopped server is not an error. */
  async stop(
    actor: Actor,
    user: UserName,
    name: ServerName,
    why = `stopped by ${actor.name}`,
  ): Promise<ServerRow> {
    const row = this.deps.store.get(user, name);
    if (!row) throw new HubappsError('no_such_server', `${user} has no server '${name}'`);
    if (!mayActOn(actor, user, hubStarted(row)))
      throw new HubappsError('not_owner', `${actor.name} may not stop servers of ${user}`);
    const stopping = this.deps.store.transition(row.id, 'stopping', {
      from: ['pending', 'starting', 'running'],
      message: why,
      actor: actor.name,
    });
    if (stopping) return this.finishStop(stopping, why);
    return this.deps.store.byId(row.id)!;
  }

  /**
   * Stop the server if it is active, then forget it (JupyterHub's `{"remove": true}`): its
   * row, log file, shares and links go; the audit trail keeps its name.
   */
  async remove(actor: Actor, user: UserName, name: ServerName): Promise<void> {
    const row = this.deps.store.get(user, name);
    if (!row) throw new HubappsError('no_such_server', `${user} has no server '${name}'`);
    if (!mayActOn(actor, user, hubStarted(row)))
      throw new HubappsError('not_owner', `${actor.name} may not remove servers of ${user}`);
    if (this.isActive(row)) await this.stop(actor, user, name, `removed by ${actor.name}`);
    const gone = this.deps.store.remove(row.id, actor.name);
    if (!gone)
      throw new HubappsError(
        'server_active',
        `${user}'s server '${name}' is active again (started or stopping meanwhile): stop it, then remove it`,
      );
    removeLogFile(gone.log_file);
  }

  /**
   * Drop the route, shut the processes down, record the end. Also used by reconcile for
   * interrupted stops. The route goes first: once a proxy has gone, its address can be
   * taken by someone else, and CHP must not send the owner's requests there.
   */
  async finishStop(row: ServerRow, why: string): Promise<ServerRow> {
    this.busy.add(row.id);
    let reason: string | null = null;
    const portRoutes = removePortRoutes(this.deps, row, this.ports.routed(row.id));
    const routeRemoved = await this.removeRoute(row).then(
      () => true,
      (err: unknown) => {
        this.deps.log.warn(
          { server: row.id, err: (err as Error).message },
          'route not removed now; reconcile will',
        );
        return false;
      },
    );
    await portRoutes;
    try {
      await this.launches.of(row).stop({
        graceMs: this.deps.config.stop_grace * 1000,
        routeRemoved,
      });
    } catch (err) {
      reason = err instanceof HubappsError ? err.message : String(err);
      this.deps.log.error({ err, server: row.id }, 'stop failed');
    }
    const to = reason ? 'failed' : 'stopped';
    this.launches.drop(row.id);
    this.ports.ended(row.id);
    this.busy.delete(row.id);
    const ended = this.deps.store.transition(row.id, to, {
      from: ['stopping'],
      fields: { reason: reason ?? why },
      message: reason ?? why,
    });
    // Before the stop answers: the app's hub token is dead at the hub too when its owner learns it stopped.
    await this.deps.hubTokens?.sweep();
    await this.ports.releaseForwards();
    return ended ?? this.deps.store.byId(row.id)!;
  }

  /**
   * The service is shutting down: a proxy that ends from now on (the last ones stopped
   * exit a moment after they stopped answering) is the next instance's to notice.
   */
  close(): void {
    this.closed = true;
  }

  /** A proxy this process started has ended: a running server ended on its own (app exit). */
  private async onProcessExit(serverId: number, info: ExitInfo): Promise<void> {
    if (this.closed) return;
    const row = this.deps.store.byId(serverId);
    if (!row || row.state !== 'running') return;
    const failure =
      info.reason ??
      (info.signal
        ? `the server's proxy was killed by ${info.signal}`
        : info.code === 0
          ? null
          : `the app ended with an error (proxy exit code ${info.code})`);
    await this.markGone(row, failure);
  }

  /** Record that a running server's processes are gone, and drop its route. */
  async markGone(row: ServerRow, failure: string | null): Promise<void> {
    const tail = tailLog(row.log_file, 1)[0];
    const reason = failure ? `${failure}${tail ? `: ${tail.slice(0, 200)}` : ''}` : null;
    const done = this.deps.store.transition(row.id, failure ? 'failed' : 'stopped', {
      from: ['running'],
      fields: { reason },
      message: reason ?? 'the app exited',
    });
    if (done) {
      const route = this.deps.urls.serverRoute(row.user, row.name);
      const ports = this.ports.routed(row.id);
      const removed = this.removeRoute(row);
      await bestEffort(
        this.deps.log,
        "removing a gone server's route",
        { server: row.id, route },
        ports.length ? Promise.all([removed, removePortRoutes(this.deps, row, ports)]) : removed,
      );
      await this.launches.of(row).kill();
      this.launches.drop(row.id);
      this.ports.ended(row.id);
      await this.deps.hubTokens?.sweep();
    }
  }

  /** Drop the server's CHP route; a hub-started server has none of hubapps' (the hub owns its /user/ route). */
  private removeRoute(row: ServerRow): Promise<void> {
    if (hubStarted(row)) return Promise.resolve();
    return this.deps.serverRoutes.remove(this.deps.urls.serverRoute(row.user, row.name));
  }

  /** A server's proxy said where it listens (Slurm jobs): the launcher verifies it, then it is saved for routing. */
  async announce(row: ServerRow, where: Announcement): Promise<void> {
    // 'pending': the job started before its submission was recorded; the proxy asks again (409).
    if (row.state !== 'starting' && row.state !== 'running') {
      throw new HubappsError(
        row.state === 'pending' ? 'not_recorded_yet' : 'not_starting',
        `server ${row.name} of ${row.user} is ${row.state}: nothing to announce now`,
      );
    }
    const launch = this.launches.of(row);
    if (!launch.announce) {
      throw new HubappsError(
        'unexpected_announce',
        `server ${row.id} runs on this host, where the service chose its address; it has nothing to announce`,
      );
    }
    await launch.announce(where);
    this.deps.store.update(row.id, { launcher_state: launch.save() });
    this.deps.store.progress(row, `listening on ${where.host}:${where.port}`);
  }

  /** Activity an app reported itself (JUPYTERHUB_ACTIVITY_URL): the culler counts it as use. */
  recordActivity(row: ServerRow, at: string): boolean {
    return recordActivity(this.deps, row, at);
  }

  /** One line in the audit trail (events, kind 'audit'), for actions the API takes outside a start or stop. */
  audit(
    row: Pick<ServerRow, 'id' | 'user' | 'name' | 'state'> | null,
    message: string,
    actor: string,
  ): void {
    this.deps.store.audit(row, message, actor);
  }

  isActive(row: ServerRow): boolean {
    return ACTIVE_STATES.includes(row.state);
  }
}
