import type { StartRequest } from '../protocol/wire.js';
import { DelegatingLauncher } from './delegating-launcher.js';
import { DelegatingLaunch } from './launch.js';
import type { ProcessLauncher } from './process-launcher.js';
import type { ExitInfo, Launch, ProbeResult, StopOptions } from './launcher.js';
import type { HostLimits } from '../limits/host-limits.js';

/**
 * The host's launcher with per-server cgroups around it: each start gets its cgroup before
 * anything runs, and every way a server can end (its exit, a probe finding it gone, a stop,
 * the last-resort kill) reads the kernel's verdict and removes the cgroup. The launcher
 * itself learns only to run its command through `enter`.
 */
export class CgroupLauncher extends DelegatingLauncher {
  /** Servers being spawned now whose cgroup is ready. */
  private readonly placed = new Set<number>();

  constructor(
    host: ProcessLauncher,
    private readonly limits: HostLimits,
  ) {
    super(host);
    host.wrapCommand = (id, cmd) => (this.placed.has(id) ? limits.enter(id, cmd) : cmd);
  }

  override async start(spec: StartRequest, logFile: string): Promise<Launch> {
    const id = spec.server.id;
    if (this.limits.prepare(spec)) this.placed.add(id);
    try {
      return await super.start(spec, logFile);
    } catch (err) {
      this.limits.tree.remove(id);
      throw err;
    } finally {
      this.placed.delete(id);
    }
  }

  protected wrap(launch: Launch): Launch {
    return new CgroupLaunch(launch, this.limits);
  }

  override onExit(listener: (serverId: number, info: ExitInfo) => void): void {
    super.onExit((id, info) => {
      const reason = this.limits.ended(id);
      listener(id, reason ? { ...info, reason } : info);
    });
  }
}

/** A launch in its own cgroup: its end reads the kernel's verdict and removes the cgroup. */
class CgroupLaunch extends DelegatingLaunch {
  constructor(
    inner: Launch,
    private readonly limits: HostLimits,
  ) {
    super(inner);
  }

  override async probe(since?: number, waitMs?: number): Promise<ProbeResult> {
    const p = await this.inner.probe(since, waitMs);
    if (p.ended) return p;
    // A proxy answers for a moment after its app ended; a start being followed must learn why now.
    const reason =
      p.report?.state === 'exited'
        ? this.limits.killedReason(this.serverId)
        : p.alive
          ? null
          : this.limits.ended(this.serverId);
    return reason ? { ...p, ended: { code: 'out_of_memory', reason } } : p;
  }

  override async stop(opts?: StopOptions): Promise<void> {
    await this.inner.stop(opts);
    this.limits.ended(this.serverId);
  }

  override async kill(): Promise<void> {
    await this.inner.kill();
    this.limits.ended(this.serverId);
  }
}
