import type { UserDirectory } from '../users/account.js';
import { ProcessLauncher } from './process-launcher.js';
import { sudoCommand } from './proxy-command.js';

/**
 * Production launcher: `sudo -n -u USER -- PROXY`, nothing else in argv (the sudoers rule
 * allows exactly that program with no arguments; every parameter travels on stdin).
 * sudo keeps the service's real uid, so the service may signal it, and it relays SIGTERM
 * to the proxy.
 */
export class SudoLauncher extends ProcessLauncher {
  readonly kind = 'sudo' as const;
  protected readonly marker: string;

  constructor(
    private readonly sudo: string,
    private readonly proxy: string,
    private readonly directory: UserDirectory,
    socketDir: string,
  ) {
    super(socketDir);
    this.marker = proxy;
  }

  protected async uidOf(user: string): Promise<number> {
    return (await this.directory.lookup(user)).uid;
  }

  protected command(user: string) {
    return sudoCommand(this.sudo, this.proxy, user);
  }
}
