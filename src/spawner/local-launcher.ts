import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROXY_NODE_FLAGS } from '../proxy/node-flags.js';
import { ProcessLauncher } from './process-launcher.js';

export const PROXY_MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../proxy/main.js');

/**
 * Runs the proxy as the service's own user, without sudo: for the demo and for tests that
 * do not need a second Unix account. Never for production: every app would run as the
 * service user.
 */
export class LocalLauncher extends ProcessLauncher {
  readonly kind = 'local' as const;
  protected readonly marker = PROXY_MAIN;

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
    return { file: process.execPath, args: [...PROXY_NODE_FLAGS, PROXY_MAIN, '--catalog-dir', this.catalogDir] };
  }

  protected override environment(): NodeJS.ProcessEnv {
    return { ...super.environment(), HOME: process.env.HOME ?? '/' };
  }
}
