import { fetchPorts } from '../launchers/proxy-client.js';
import { RateLimit } from '../limits/rate.js';
import type { PortRef } from '../model/auth.js';
import type { ListeningPort } from '../protocol/wire.js';
import type { PortForward } from '../store/server-ports.js';
import type { ServerRow } from '../store/servers.js';
import type { LifecycleDeps } from './deps.js';
import type { Launches } from './launches.js';
import { addPortRoute, removePortRoutes } from './port-routes.js';

/**
 * Users' own ports as the lifecycle handles them: the routes of port hosts (per-server
 * origins), forgetting a forward, and the server's listing from its proxy. Who may use a
 * port is the API's decision (api/port-access.ts); this class changes routes and rows.
 */
export class ServerPorts {
  /** Per running server: first visits of port hosts that added a route for an unrecorded port. */
  private readonly newRoutes = new Map<number, RateLimit>();
  /**
   * Per running server: the port hosts this process routed, recorded or not, so a stop
   * removes the routes of ports nobody was let into too (after a restart of the service,
   * reconcile's first pass removes those).
   */
  private readonly added = new Map<number, Map<string, PortRef>>();

  constructor(
    private readonly deps: LifecycleDeps,
    private readonly launches: Launches,
  ) {}

  /**
   * Route a user's own port's host to the server's proxy (per-server origins): its first
   * visit. Anyone can send that visit, so routes for ports without a recorded forward are
   * limited per server (user_ports.max_open_per_user a minute); reconcile drops those nobody
   * was let into.
   */
  async openRoute(row: ServerRow, p: PortRef): Promise<void> {
    if (!this.deps.ports?.get(row.id, p)) {
      const perMinute = this.deps.config.user_ports.max_open_per_user;
      let limit = this.newRoutes.get(row.id);
      if (!limit) {
        limit = new RateLimit(
          perMinute,
          `new port addresses of ${row.user}'s server '${row.name}'`,
          'user_ports.max_open_per_user',
        );
        this.newRoutes.set(row.id, limit);
      }
      limit.take();
    }
    let added = this.added.get(row.id);
    if (!added) this.added.set(row.id, (added = new Map()));
    added.set(`${p.kind}:${p.port}`, { port: p.port, kind: p.kind });
    await addPortRoute(this.deps, this.launches, row, p);
  }

  /** Every port host of the server that may have a route now: its recorded forwards and those routed since this process started (host layout; else none). */
  routed(serverId: number): PortRef[] {
    if (!this.deps.urls.hostLayout) return [];
    const all = new Map(this.added.get(serverId));
    for (const r of this.deps.ports?.forServer(serverId) ?? [])
      all.set(`${r.kind}:${r.port}`, { port: r.port, kind: r.kind });
    return [...all.values()];
  }

  /** Forget a forward (and its share); its host's route goes with it. True when there was one. */
  async forget(row: ServerRow, p: PortRef): Promise<boolean> {
    const had = this.deps.ports?.remove(row.id, p) ?? false;
    await removePortRoutes(this.deps, row, [p]);
    await this.releaseForwards();
    return had;
  }

  /** A forward dropped to make room under the owner's cap: its host's route goes. */
  async dropped(f: PortForward): Promise<void> {
    await removePortRoutes(this.deps, { id: f.server_id, user: f.user, name: f.name }, [f]);
    await this.releaseForwards();
  }

  /** Forwards no longer open (forgotten, dropped, their server ended) give their ports back to every account now, not at the guard's next sweep; never throws. */
  async releaseForwards(): Promise<void> {
    await this.deps.forwards
      ?.sweep()
      .catch((err: unknown) =>
        this.deps.log.warn({ err }, 'port guard: forwards not released now'),
      );
  }

  /**
   * The ports the server's processes listen on now, from its proxy; null when the proxy
   * cannot say (an older build without the endpoint, or no answer).
   */
  async listening(row: ServerRow): Promise<ListeningPort[] | null> {
    if (row.state !== 'running') return [];
    const target = await this.launches.of(row).target();
    if (!target) return null;
    const answer = await fetchPorts(target);
    if (!answer.ok || !Array.isArray(answer.body.ports)) {
      if (answer.ok || answer.status !== 404)
        this.deps.log.warn(
          { server: row.id, err: answer.ok ? 'malformed' : answer.error },
          'port listing failed',
        );
      return null;
    }
    return answer.body.ports;
  }

  /** The server has ended: what was kept for it goes. */
  ended(serverId: number): void {
    this.newRoutes.delete(serverId);
    this.added.delete(serverId);
  }
}
