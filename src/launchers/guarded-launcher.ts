import type { StartRequest } from '../protocol/wire.js';
import type { PortGuard } from '../limits/port-guard.js';
import type { UserDirectory } from '../users/account.js';
import { DelegatingLauncher } from './delegating-launcher.js';
import { DelegatingLaunch } from './launch.js';
import type { ExitInfo, Launch, Launcher, ServerRef, StopOptions } from './launcher.js';

/** One port of a server in the guard; `open` for a hub-started server's proxy (PortGuard.allow). */
interface Pair {
  port: number;
  uid: number;
  open?: boolean;
}

/**
 * The host's launcher with its apps' {port}s guarded: before a server's app can listen,
 * only its owner's sockets may connect to the port (the owner's proxy among them); once
 * the server has ended, the pair is taken back. Servers without a port (unix-socket apps,
 * the terminal) pass straight through. A server JupyterHub started has two: its app's,
 * guarded so, and its proxy's TCP port, open to the hub's CHP (the proxy checks everyone).
 */
export class GuardedLauncher extends DelegatingLauncher {
  /** Pairs this instance allowed, for exit events (which carry only the server id). */
  private readonly allowed = new Map<number, Pair[]>();
  /** Releases under way, so a stop returns only once the exit event's release has finished too. */
  private readonly releasing = new Map<number, Promise<void>>();

  constructor(
    inner: Launcher,
    private readonly guard: PortGuard,
    private readonly directory: UserDirectory,
  ) {
    super(inner);
  }

  override async start(spec: StartRequest, logFile: string): Promise<Launch> {
    try {
      if (spec.port > 0) {
        const uid = (await this.directory.lookup(spec.server.user)).uid;
        // Only what the guard took is given back when a later step fails.
        const held: Pair[] = [];
        this.allowed.set(spec.server.id, held);
        for (const p of pairsOf(spec.port, spec.hub && spec.appPort, uid)) {
          await this.guard.allow(p.port, p.uid, p.open);
          held.push(p);
        }
      }
      return await super.start(spec, logFile);
    } catch (err) {
      await this.release(spec.server.id);
      throw err;
    }
  }

  protected wrap(launch: Launch): Launch {
    return new GuardedLaunch(launch, (l) => this.releaseLaunch(l));
  }

  /** A hub-started server's app port is not the launch's own: it comes with the row. */
  override restore(ref: ServerRef, saved: string | null): Launch {
    return new GuardedLaunch(this.inner.restore(ref, saved), (l) =>
      this.releaseLaunch(l, ref.appPort),
    );
  }

  override onExit(listener: (serverId: number, info: ExitInfo) => void): void {
    super.onExit((id, info) => {
      void this.release(id);
      listener(id, info);
    });
  }

  /** A launch restored after a restart is not in `allowed`: its pair comes from the row and NSS. */
  private async releaseLaunch(l: Launch, appPort?: number): Promise<void> {
    if (this.allowed.has(l.serverId) || this.releasing.has(l.serverId))
      return this.release(l.serverId);
    if (l.port <= 0) return;
    const uid = await this.directory.lookup(l.user).then(
      (a) => a.uid,
      () => null,
    );
    if (uid === null) return;
    for (const p of pairsOf(l.port, appPort, uid)) await this.guard.revoke(p.port, p.uid, p.open);
  }

  /** Take the server's pairs back; a second caller (the exit event, then the stop) waits for the same release. */
  private release(serverId: number): Promise<void> {
    const running = this.releasing.get(serverId);
    if (running) return running;
    const pairs = this.allowed.get(serverId);
    if (!pairs) return Promise.resolve();
    this.allowed.delete(serverId);
    const done = (async () => {
      for (const p of pairs) await this.guard.revoke(p.port, p.uid, p.open);
    })().finally(() => this.releasing.delete(serverId));
    this.releasing.set(serverId, done);
    return done;
  }
}

/** The guard's pairs of a server on `port`: with an app port of its own (hub-started), `port` is its proxy's and open. */
function pairsOf(port: number, appPort: number | undefined, uid: number): Pair[] {
  if (!appPort) return [{ port, uid }];
  return [
    { port: appPort, uid },
    { port, uid, open: true },
  ];
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
