import type { StartRequest } from '../protocol/wire.js';
import type { PortGuard } from '../limits/port-guard.js';
import type { UserDirectory } from '../users/account.js';
import { DelegatingLauncher } from './delegating-launcher.js';
import { DelegatingLaunch } from './launch.js';
import type { ExitInfo, Launch, Launcher, StopOptions } from './launcher.js';

/**
 * The host's launcher with its apps' {port}s guarded: before a server's app can listen,
 * only its owner's sockets may connect to the port (the owner's proxy among them); once
 * the server has ended, the pair is taken back. Servers without a port (unix-socket apps,
 * the terminal) pass straight through.
 */
export class GuardedLauncher extends DelegatingLauncher {
  /** Pairs this instance allowed, for exit events (which carry only the server id). */
  private readonly allowed = new Map<number, { port: number; uid: number }>();

  constructor(
    inner: Launcher,
    private readonly guard: PortGuard,
    private readonly directory: UserDirectory,
  ) {
    super(inner);
  }

  override async start(spec: StartRequest, logFile: string): Promise<Launch> {
    const pair =
      spec.port > 0
        ? { port: spec.port, uid: (await this.directory.lookup(spec.server.user)).uid }
        : null;
    if (pair) {
      await this.guard.allow(pair.port, pair.uid);
      this.allowed.set(spec.server.id, pair);
    }
    try {
      return await super.start(spec, logFile);
    } catch (err) {
      await this.release(spec.server.id);
      throw err;
    }
  }

  protected wrap(launch: Launch): Launch {
    return new GuardedLaunch(launch, (l) => this.releaseLaunch(l));
  }

  override onExit(listener: (serverId: number, info: ExitInfo) => void): void {
    super.onExit((id, info) => {
      void this.release(id);
      listener(id, info);
    });
  }

  /** A launch restored after a restart is not in `allowed`: its pair comes from the row and NSS. */
  private async releaseLaunch(l: Launch): Promise<void> {
    if (this.allowed.has(l.serverId)) return this.release(l.serverId);
    if (l.port <= 0) return;
    const uid = await this.directory.lookup(l.user).then(
      (a) => a.uid,
      () => null,
    );
    if (uid !== null) await this.guard.revoke(l.port, uid);
  }

  private async release(serverId: number): Promise<void> {
    const pair = this.allowed.get(serverId);
    if (!pair) return;
    this.allowed.delete(serverId);
    await this.guard.revoke(pair.port, pair.uid);
  }
}

/** A launch whose port pair is taken back once it is stopped or killed. */
class GuardedLaunch extends DelegatingLaunch {
  constructor(
    inner: Launch,
    private readonly release: (l: Launch) => Promise<void>,
  ) {
    super(inner);
  }

  override async stop(opts?: StopOptions): Promise<void> {
    await this.inner.stop(opts);
    await this.release(this);
  }

  override async kill(): Promise<void> {
    await this.inner.kill();
    await this.release(this);
  }
}
