import { spawn } from 'node:child_process';
import { PROTOCOL_VERSION, type StartRequest, type StopRequest } from '../proxy/protocol.js';
import type { ProcessHandle } from './launcher.js';
import { ProcessLauncher } from './process-launcher.js';

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
  ) {
    super();
    this.marker = proxy;
  }

  protected command(spec: StartRequest) {
    return { file: this.sudo, args: ['-n', '-u', spec.server.user, '--', this.proxy] };
  }

  /** The proxy runs as the user, so only the user can kill it: ask a fresh proxy, as the user, to do it. */
  protected forceKill(handle: ProcessHandle): Promise<void> {
    if (!handle.proxyPid) return Promise.resolve();
    const req: StopRequest = { op: 'stop', version: PROTOCOL_VERSION, pid: handle.proxyPid, server: { id: handle.serverId } };
    return new Promise((resolve) => {
      const child = spawn(this.sudo, ['-n', '-u', handle.user, '--', this.proxy], { stdio: ['pipe', 'ignore', 'ignore'] });
      child.on('error', () => resolve());
      child.on('exit', () => resolve());
      child.stdin.on('error', () => undefined);
      child.stdin.end(`${JSON.stringify(req)}\n`);
    });
  }
}
