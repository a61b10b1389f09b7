/**
 * What the API may read about servers, their events and the routing layer, without
 * reaching the store, CHP or the launcher itself. Writes go through ServerManager.
 */
import { HubappsError } from '../errors.js';
import type { EventQuery, EventRow } from '../model/event.js';
import type { ServerRow } from '../model/server.js';
import type { ServerState } from '../model/states.js';
import { currentAttemptStart, tailLog } from '../store/server-logs.js';
import type { LifecycleDeps } from './deps.js';

export type Reachability = 'ok' | 'unreachable';

export interface ServiceHealth {
  chp: Reachability;
  /** Only in the host layout, where servers have a CHP of their own. */
  appsChp?: Reachability;
  launcher: string;
}

export class ServerQueries {
  constructor(
    private readonly deps: Pick<LifecycleDeps, 'store' | 'routes' | 'serverRoutes' | 'launcher'>,
  ) {}

  find(user: string, name: string): ServerRow | undefined {
    return this.deps.store.get(user, name);
  }

  /** The server, or 404 no_such_server. */
  get(user: string, name: string): ServerRow {
    const row = this.deps.store.get(user, name);
    if (!row) throw new HubappsError('no_such_server', `${user} has no server '${name}'`);
    return row;
  }

  byId(id: number): ServerRow | undefined {
    return this.deps.store.byId(id);
  }

  /** The newest `count` lines of the server's log, and the index in them where its newest start attempt begins. */
  logTail(row: ServerRow, count: number): { lines: string[]; currentAttempt: number } {
    const lines = tailLog(row.log_file, count);
    return { lines, currentAttempt: currentAttemptStart(lines) };
  }

  list(filter: { user?: string; states?: readonly ServerState[] } = {}): ServerRow[] {
    return this.deps.store.list(filter);
  }

  /** The launch form values of the user's latest start of each app, by app name. */
  lastForms(user: string): Map<string, Record<string, unknown>> {
    return this.deps.store.lastForms(user);
  }

  searchEvents(q: EventQuery): EventRow[] {
    return this.deps.store.events.search(q);
  }

  /** This run's events of a server after `afterId`, and the id its current run starts at. */
  runEvents(serverId: number, afterId: number): { startId: number; events: EventRow[] } {
    const startId = this.deps.store.events.currentRunStart(serverId);
    return {
      startId,
      events: this.deps.store.events.forServer(serverId, Math.max(afterId, startId - 1)),
    };
  }

  /** Call `listener` with every event committed from now on; returns the function that stops it. */
  follow(listener: (ev: EventRow) => void): () => void {
    const emitter = this.deps.store.events.emitter;
    emitter.on('event', listener);
    return () => void emitter.off('event', listener);
  }

  async health(): Promise<ServiceHealth> {
    const reach = (t: LifecycleDeps['routes']): Promise<Reachability> =>
      t.reachable().then(
        () => 'ok' as const,
        () => 'unreachable' as const,
      );
    const chp = await reach(this.deps.routes);
    const appsChp =
      this.deps.serverRoutes === this.deps.routes ? undefined : await reach(this.deps.serverRoutes);
    return { chp, ...(appsChp ? { appsChp } : {}), launcher: this.deps.launcher.kind };
  }
}
