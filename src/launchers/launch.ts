import type { HealthReport } from '../protocol/wire.js';
import type { ProxyTarget } from './proxy-client.js';
import type {
  ExitInfo,
  Launch,
  LaunchHandle,
  LaunchState,
  ProbeResult,
  StopOptions,
} from './launcher.js';

/**
 * What a launcher does for one server given its handle: the launcher keeps what its servers
 * share (spawned children, a status cache), the handle what is one server's. `HandleLaunch`
 * binds one handle to them.
 */
export interface HandleOps<S extends LaunchState = LaunchState> {
  save(h: LaunchHandle<S>): string;
  target(h: LaunchHandle<S>): Promise<ProxyTarget | null>;
  probe(h: LaunchHandle<S>, since?: number, waitMs?: number): Promise<ProbeResult>;
  /** Absent: a health report changes nothing of the saved state. */
  observe?(h: LaunchHandle<S>, report: HealthReport): boolean;
  routeTarget(h: LaunchHandle<S>): string | null;
  /** Absent: the launcher sees no exit status (a job on another host). */
  exitOf?(h: LaunchHandle<S>): ExitInfo | undefined;
  stop(h: LaunchHandle<S>, opts?: StopOptions): Promise<void>;
  forceKill(h: LaunchHandle<S>): Promise<void>;
}

/** One server's launch: its handle, owned here, and the launcher's code for it. */
export class HandleLaunch<S extends LaunchState = LaunchState> implements Launch {
  constructor(
    protected readonly ops: HandleOps<S>,
    protected readonly handle: LaunchHandle<S>,
  ) {}

  get serverId(): number {
    return this.handle.serverId;
  }

  get kind(): LaunchHandle['kind'] {
    return this.handle.kind;
  }

  get user(): string {
    return this.handle.user;
  }

  get port(): number {
    return this.handle.port;
  }

  get pid(): number | null {
    return this.handle.pid;
  }

  save(): string {
    return this.ops.save(this.handle);
  }

  target(): Promise<ProxyTarget | null> {
    return this.ops.target(this.handle);
  }

  probe(since?: number, waitMs?: number): Promise<ProbeResult> {
    return this.ops.probe(this.handle, since, waitMs);
  }

  observe(report: HealthReport): boolean {
    return this.ops.observe?.(this.handle, report) ?? false;
  }

  routeTarget(): string | null {
    return this.ops.routeTarget(this.handle);
  }

  exit(): ExitInfo | undefined {
    return this.ops.exitOf?.(this.handle);
  }

  stop(opts?: StopOptions): Promise<void> {
    return this.ops.stop(this.handle, opts);
  }

  kill(): Promise<void> {
    return this.ops.forceKill(this.handle);
  }
}

/**
 * A launch around another that passes every call through: the host's additions (cgroups,
 * the port guard) override only the calls they add to.
 */
export class DelegatingLaunch implements Launch {
  readonly announce?: Launch['announce'];

  constructor(protected readonly inner: Launch) {
    const announce = inner.announce;
    if (announce) this.announce = (where) => announce.call(inner, where);
  }

  get serverId(): number {
    return this.inner.serverId;
  }

  get kind(): Launch['kind'] {
    return this.inner.kind;
  }

  get user(): string {
    return this.inner.user;
  }

  get port(): number {
    return this.inner.port;
  }

  get pid(): number | null {
    return this.inner.pid;
  }

  save(): string {
    return this.inner.save();
  }

  target(): Promise<ProxyTarget | null> {
    return this.inner.target();
  }

  probe(since?: number, waitMs?: number): Promise<ProbeResult> {
    return this.inner.probe(since, waitMs);
  }

  observe(report: HealthReport): boolean {
    return this.inner.observe(report);
  }

  routeTarget(): string | null {
    return this.inner.routeTarget();
  }

  exit(): ExitInfo | undefined {
    return this.inner.exit();
  }

  stop(opts?: StopOptions): Promise<void> {
    return this.inner.stop(opts);
  }

  kill(): Promise<void> {
    return this.inner.kill();
  }
}
