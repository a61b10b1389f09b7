import { PROXY_MAINS } from '../proxy/command-line.js';
import { ProcessLauncher } from './process-launcher.js';
import { localCommand, proxyEnvironment } from './proxy-command.js';

/**
 * Runs the proxy as the service's own user, without sudo: for the demo and for tests that
 * do not need a second Unix account. Never for production: every app would run as the
 * service user.
 */
export class LocalLauncher extends ProcessLauncher {
  readonly kind = 'local' as const;
  /** This installation's proxy, by its full path: the entry point this build runs, or one a proxy started before an upgrade ran. */
  protected readonly marker = PROXY_MAINS;

  constructor(
    private readonly catalogDir: string,
    socketDir: string,
  ) {
    super(socketDir);
  }

  /** Every server runs as the service's own user. */
  protected async uidOf(_user: string): Promise<number> {
    return process.getuid!();
  }

  protected command(_user: string) {
    return localCommand(this.catalogDir);
  }

  protected override environment(): NodeJS.ProcessEnv {
    return proxyEnvironment({ home: true });
  }
}
