import type { StartRequest } from '../protocol/wire.js';
import type { ExitInfo, Launch, Launcher, ServerRef } from './launcher.js';

/**
 * A launcher around another: every launch it starts or restores is the inner one's,
 * wrapped by `wrap` (a DelegatingLaunch that overrides only the calls it adds to). The
 * host's additions (cgroups, the port guard) build on it.
 */
export abstract class DelegatingLauncher implements Launcher {
  readonly kind: Launcher['kind'];

  constructor(protected readonly inner: Launcher) {
    this.kind = inner.kind;
  }

  /** This launcher's launch around one of the inner launcher's. */
  protected abstract wrap(launch: Launch): Launch;

  async start(spec: StartRequest, logFile: string): Promise<Launch> {
    return this.wrap(await this.inner.start(spec, logFile));
  }

  restore(ref: ServerRef, saved: string | null): Launch {
    return this.wrap(this.inner.restore(ref, saved));
  }

  onExit(listener: (serverId: number, info: ExitInfo) => void): void {
    this.inner.onExit?.(listener);
  }
}
