/**
 * A launcher and a route table without processes or CHP, for lifecycle tests that race
 * starts, stops and reconcile on fakes: each fake server does what its script says (slow to
 * spawn, never ready, crashes before it is ready, exits on its own later), and the test
 * moves it on with `ready`, `crash` or `exit` at the moment the race needs.
 */
import type { RouteEntry, RouteTable, HubappsRouteData } from '../../src/chp/route-table.js';
import { HubappsError } from '../../src/errors.js';
import type { HealthReport, StartRequest } from '../../src/protocol/wire.js';
import type {
  ExitInfo,
  Launch,
  LaunchHandle,
  Launcher,
  ProbeResult,
  ServerRef,
  StopOptions,
} from '../../src/launchers/launcher.js';
import { HandleLaunch, type HandleOps } from '../../src/launchers/launch.js';
import type { ProxyTarget } from '../../src/launchers/proxy-client.js';

/** What one fake server does. */
export interface FakeScript {
  /** start() resolves after this long (a slow sudo). */
  spawnMs?: number;
  /** start() throws this instead. */
  spawnError?: HubappsError;
  /** Ready after this long; undefined: only when the test calls `ready`. */
  readyMs?: number;
}

type Phase = 'starting' | 'ready' | 'crashed' | 'exited' | 'stopped';

interface FakeServer {
  id: number;
  phase: Phase;
  startedAt: string;
  exit?: ExitInfo;
}

const PID = 4_000_000;

/** Its launches are HandleLaunches, as the host launchers' are: the per-handle methods below are what they call. */
export class FakeLauncher implements Launcher, HandleOps {
  readonly kind = 'local' as const;
  /** The script of the next servers started, by server name; `default` for the others. */
  readonly scripts = new Map<string, FakeScript>();
  readonly servers = new Map<number, FakeServer>();
  /** Every call that changed something, in order: "start 3", "stop 3 routeRemoved", "kill 3". */
  readonly calls: string[] = [];
  /** The last start request of each server, as the proxy would have read it. */
  readonly specs = new Map<number, StartRequest>();
  /** How many times the service asked a fake proxy for its health. */
  probes = 0;
  /** Fake proxies hold a health call that may wait until their app is past starting, as real ones do. */
  holds = false;
  /** Servers whose health call is being held right now; and every server's count of health calls. */
  readonly held = new Set<number>();
  readonly probesOf = new Map<number, number>();
  private readonly exitListeners: ((serverId: number, info: ExitInfo) => void)[] = [];

  async start(spec: StartRequest): Promise<Launch> {
    const script = this.scripts.get(spec.server.name) ?? this.scripts.get('default') ?? {};
    this.calls.push(`start ${spec.server.id}`);
    this.specs.set(spec.server.id, spec);
    if (script.spawnMs) await new Promise((r) => setTimeout(r, script.spawnMs));
    if (script.spawnError) throw script.spawnError;
    const server: FakeServer = {
      id: spec.server.id,
      phase: 'starting',
      startedAt: new Date().toISOString(),
    };
    this.servers.set(server.id, server);
    if (script.readyMs !== undefined) {
      setTimeout(() => {
        if (server.phase === 'starting') server.phase = 'ready';
      }, script.readyMs).unref();
    }
    return new HandleLaunch(
      this,
      this.handle(
        {
          serverId: spec.server.id,
          user: spec.server.user,
          port: 0,
          secret: spec.secret,
          kind: 'local',
        },
        server,
      ),
    );
  }

  /** The app of `serverId` answers as ready from now on (if its proxy still runs). */
  ready(serverId: number): void {
    const s = this.server(serverId);
    if (s.phase === 'starting') s.phase = 'ready';
  }

  /** The proxy of `serverId` dies before its app is ready (as sudo's refusal or a crash would). */
  crash(serverId: number, info: ExitInfo = { code: 1, signal: null }): void {
    const s = this.server(serverId);
    s.phase = 'crashed';
    s.exit = info;
  }

  /** The server's app exits on its own after it ran: the proxy reports it, then the listeners hear of it. */
  exit(serverId: number, info: ExitInfo = { code: 0, signal: null }): void {
    const s = this.server(serverId);
    s.phase = 'exited';
    s.exit = info;
    for (const l of this.exitListeners) l(serverId, info);
  }

  restore(ref: ServerRef): Launch {
    return new HandleLaunch(this, this.handle(ref, this.servers.get(ref.serverId)));
  }

  save(handle: LaunchHandle): string {
    return JSON.stringify(handle.state);
  }

  async target(handle: LaunchHandle): Promise<ProxyTarget | null> {
    return {
      socket: `/fake/${handle.serverId}.sock`,
      secret: handle.secret,
      uid: process.getuid!(),
    };
  }

  async probe(handle: LaunchHandle, _since = 0, waitMs = 0): Promise<ProbeResult> {
    this.probes++;
    this.probesOf.set(handle.serverId, (this.probesOf.get(handle.serverId) ?? 0) + 1);
    const end = Date.now() + (this.holds ? waitMs : 0);
    this.held.add(handle.serverId);
    while (this.servers.get(handle.serverId)?.phase === 'starting' && Date.now() < end)
      await new Promise((r) => setTimeout(r, 2));
    this.held.delete(handle.serverId);
    const s = this.servers.get(handle.serverId);
    if (!s || s.phase === 'stopped') return { alive: false, answering: false, launched: false };
    if (s.phase === 'crashed') return { alive: false, answering: false, launched: false };
    const report: HealthReport = {
      serverId: s.id,
      state: s.phase === 'exited' ? 'exited' : s.phase === 'ready' ? 'ready' : 'starting',
      pid: PID + s.id,
      appPid: PID + s.id + 1,
      appTarget: { port: 1 },
      startedAt: s.startedAt,
      readyAt: s.phase === 'ready' ? new Date().toISOString() : null,
      lastActivity: null,
      progress: [],
      exit: s.exit ? { code: s.exit.code, signal: s.exit.signal, reason: 'the app exited' } : null,
    };
    return { alive: true, answering: true, launched: true, report };
  }

  observe(): boolean {
    return false;
  }

  routeTarget(handle: LaunchHandle): string | null {
    return `http://fake.invalid/${handle.serverId}`;
  }

  exitOf(handle: LaunchHandle): ExitInfo | undefined {
    const s = this.servers.get(handle.serverId);
    return s?.phase === 'crashed' ? s.exit : undefined;
  }

  async stop(handle: LaunchHandle, opts: StopOptions = {}): Promise<void> {
    this.calls.push(`stop ${handle.serverId}${opts.routeRemoved ? ' routeRemoved' : ''}`);
    const s = this.servers.get(handle.serverId);
    if (s) s.phase = 'stopped';
  }

  async forceKill(handle: LaunchHandle): Promise<void> {
    this.calls.push(`kill ${handle.serverId}`);
    const s = this.servers.get(handle.serverId);
    if (s) s.phase = 'stopped';
  }

  onExit(listener: (serverId: number, info: ExitInfo) => void): void {
    this.exitListeners.push(listener);
  }

  /** Servers whose proxy still runs (neither stopped nor dead). */
  running(): number[] {
    return [...this.servers.values()]
      .filter((s) => s.phase === 'starting' || s.phase === 'ready')
      .map((s) => s.id);
  }

  private server(id: number): FakeServer {
    const s = this.servers.get(id);
    if (!s) throw new Error(`the fake launcher never started server ${id}`);
    return s;
  }

  private handle(ref: ServerRef, server: FakeServer | undefined): LaunchHandle {
    return {
      ...ref,
      kind: 'local',
      state: { fake: ref.serverId },
      pid: server ? PID + server.id : null,
    };
  }
}

/** CHP's route table in memory; `failNext` makes the next calls fail as an unreachable CHP does. */
export class MemoryRouteTable implements RouteTable {
  readonly routes = new Map<string, RouteEntry>();
  failNext = 0;

  /** `calls`: where removals are logged ("unroute PATH"), e.g. the launcher's call list, to check their order. */
  constructor(private readonly calls: string[] = []) {}

  async add(path: string, target: string, data: HubappsRouteData): Promise<void> {
    this.maybeFail();
    this.routes.set(trim(path), { path: trim(path), target, data });
  }

  async addIfAbsent(path: string, target: string, data: HubappsRouteData): Promise<boolean> {
    this.maybeFail();
    if (this.routes.has(trim(path))) return false;
    this.routes.set(trim(path), { path: trim(path), target, data });
    return true;
  }

  async remove(path: string): Promise<void> {
    this.maybeFail();
    this.calls.push(`unroute ${trim(path)}`);
    this.routes.delete(trim(path));
  }

  async reachable(): Promise<void> {
    this.maybeFail();
  }

  async list(): Promise<Map<string, RouteEntry>> {
    this.maybeFail();
    return new Map([...this.routes].filter(([, r]) => r.data.hubapps));
  }

  private maybeFail(): void {
    if (this.failNext > 0) {
      this.failNext--;
      throw new HubappsError('chp_unreachable', 'the in-memory CHP is set to fail');
    }
  }
}

/** CHP keys routes without a trailing slash. */
const trim = (path: string) => (path.length > 1 ? path.replace(/\/$/, '') : path);
