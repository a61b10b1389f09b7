import type { StartRequest } from '../proxy/protocol.js';

/** What the service remembers about a started proxy (stored on the server row). */
export interface ProcessHandle {
  serverId: number;
  user: string;
  port: number;
  secret: string;
  /** pid of the process the service spawned (sudo, or the proxy itself for the local launcher). */
  launcherPid: number | null;
  /** pid of hubapps-proxy, once its health report has said it. */
  proxyPid: number | null;
}

export interface ProbeResult {
  alive: boolean;
  /** The proxy answered health with the expected server id, proving it knows the secret, from a listener of the server's user. */
  answering: boolean;
  /**
   * The process the service launched (sudo, or the local proxy) is still running. While a
   * start is watched it must be: an answer from a port whose launched process is gone is
   * not this start's proxy.
   */
  launched: boolean;
  report?: import('../proxy/protocol.js').HealthReport;
}

/** How a server process comes to life; SudoLauncher (production) and LocalLauncher (demo, tests) implement it. */
export interface Launcher {
  readonly kind: 'sudo' | 'local';
  /**
   * Start the per-user proxy for `spec`, with stdout/stderr appended to `logFile`.
   * Resolves once the process exists (not once it is ready). The process is detached:
   * it outlives the service.
   */
  start(spec: StartRequest, logFile: string): Promise<ProcessHandle>;
  /** Stop the proxy and its app; escalates: shutdown endpoint, SIGTERM, last-resort stop op. */
  stop(handle: ProcessHandle, opts?: { graceMs?: number }): Promise<void>;
  /** Alive and answering as this server? Used for readiness, reconcile and re-adoption after a restart. */
  probe(handle: ProcessHandle, since?: number): Promise<ProbeResult>;
}
