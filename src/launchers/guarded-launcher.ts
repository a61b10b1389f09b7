import type { StartRequest } from '../protocol/wire.js';
import type { PortGuard } from '../limits/port-guard.js';
import type { UserDirectory } from '../users/account.js';
import { DelegatingLauncher } from './delegating-launcher.js';
import type { ExitInfo, Launcher, LaunchHandle, StopOptions } from './launcher.js';

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

  override async start(spec: StartRequest, logFile: string): Promise<LaunchHandle> {
    const pair =
      spec.port > 0
        ? { port: spec.port, uid: (await this.directory.lookup(spec.server.user)).uid }
        : null;
    if (pair) {
      await this.guard.allow(pair.port, pair.uid);
      this.allowed.set(spec.server.id, pair);
    }
    try {
      return await this.inner.start(spec, logFile);
    } catch (err) {
      await this.release(spec.server.id);
      throw err;
    }
  }

  override async stop(h: LaunchHandle, opts?: StopOptions): Promise<void> {
    await this.inner.stop(h, opts);
    await this.releaseHandle(h);
  }

  override async forceKill(h: LaunchHandle): Promise<void> {
    await this.inner.forceKill(h);
    await this.releaseHandle(h);
  }

  override onExit(listener: (serverId: number, info: ExitInfo) => void): void {
    this.inner.onExit((id, info) => {
      void this.release(id);
      listener(id, info);
    });
  }

  /** A handle loaded after a restart is not in `allowed`: its pair comes from the row and NSS. */
  private async releaseHandle(h: LaunchHandle): Promise<void> {
    if (this.allowed.has(h.serverId)) return this.release(h.serverId);
    if (h.port <= 0) return;
    const uid = await this.directory.lookup(h.user).then(
      (a) => a.uid,
      () => null,
    );
    if (uid !== null) await this.guard.revoke(h.port, uid);
  }

  private async release(serverId: number): Promise<void> {
    const pair = this.allowed.get(serverId);
    if (!pair) return;
    this.allowed.delete(serverId);
    await this.guard.revoke(pair.port, pair.uid);
  }
}
