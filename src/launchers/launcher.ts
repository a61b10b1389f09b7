import type { ErrorCode } from '../errors.js';
import type { HealthReport, StartRequest } from '../protocol/wire.js';
import type { ProxyTarget } from './proxy-client.js';

export type LauncherKind = 'sudo' | 'local' | 'slurm';

/** What the lifecycle knows about a server, whatever launcher runs it (columns of its row). */
export interface ServerRef {
  serverId: number;
  user: string;
  port: number;
  secret: string;
  /** The launcher that started it (null for rows older than that column: the configured default). */
  kind: LauncherKind | null;
  /** A hub-started server's app port (`port` is then its proxy's). */
  appPort?: number;
}

/**
 * A launcher's saved state: plain JSON, stored on the server row (servers.launcher_state)
 * and handed back to `restore` after a service restart. The launcher alone reads it.
 */
export type LaunchState = Record<string, string | number | boolean | null>;

/** A started server as its launcher sees it: what a launch of the per-handle launchers holds (see launch.ts). */
export interface LaunchHandle<S extends LaunchState = LaunchState> extends ServerRef {
  kind: LauncherKind;
  state: S;
  /** The local process the service spawned (sudo or the proxy), for admins and /proc checks; null for a job on another host. */
  pid: number | null;
}

export interface StopOptions {
  graceMs?: number;
  routeRemoved?: boolean;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Why it ended, when the host knows better than the exit status (the kernel killed it at its memory limit). */
  reason?: string;
}

export interface ProbeResult {
  /** Something of this server still exists (a process, a queued or running job). */
  alive: boolean;
  /** The proxy answered health with the expected server id, proving it knows the secret, from a listener of the server's user. */
  answering: boolean;
  /**
   * What the service launched (sudo, the local proxy, a Slurm job) is still running. While a
   * start is watched it must be: an answer from an address whose launched process or job is
   * gone is not this start's proxy.
   */
  launched: boolean;
  report?: HealthReport;
  /** Not ready yet through no fault of the app (a queued job): the readiness deadline waits. */
  waiting?: boolean;
  /** What the launcher sees now, for the progress stream (e.g. "queued (Priority)"). */
  status?: string;
  /** Why it is gone, when the launcher knows better than an exit code (e.g. "ran out of memory"). */
  ended?: { code: ErrorCode; reason: string };
}

/** Where a server announced it listens (a launcher whose proxy picks its own address). */
export interface Announcement {
  host: string;
  port: number;
  /** The launcher's own id for the run (a Slurm job id), checked against the saved state. */
  runId?: string;
}

/**
 * One server as its launcher runs it, JupyterHub's one Spawner per server: it owns what the
 * launcher knows of the server (its saved state, the process or job behind it). Got from
 * `Launcher.start` for a new server, or `Launcher.restore` for one started earlier.
 */
export interface Launch {
  readonly serverId: number;
  readonly kind: LauncherKind;
  readonly user: string;
  /** The app's {port} (0: none). */
  readonly port: number;
  /** The local process the service spawned (sudo or the proxy), for admins and /proc checks; null for a job on another host. */
  readonly pid: number | null;
  /** The launcher's state as it goes into SQLite (servers.launcher_state), for `restore`. */
  save(): string;
  /**
   * Where this server's proxy listens and how far a listener there can be trusted before
   * the service signs a call to it; null while that is not known (a job not yet announced).
   * Every call the launch makes to its proxy goes to this target.
   */
  target(): Promise<ProxyTarget | null>;
  /**
   * Alive and answering as this server (the proof of the secret, from a listener `target`
   * allows)? Readiness, reconcile and re-adoption use it. `waitMs`: a starting proxy may hold
   * its answer that long until it has news (progress after `since`, or readiness); a launcher
   * that cannot wait answers at once.
   */
  probe(since?: number, waitMs?: number): Promise<ProbeResult>;
  /** Take in what a health report says (e.g. the proxy's pid); true when the state changed and should be saved. */
  observe(report: HealthReport): boolean;
  /**
   * Take in an address the server announced; throws a HubappsError when it cannot be this
   * server's. Only launches whose proxy picks its own address (Slurm jobs) have it.
   */
  announce?(where: Announcement): Promise<void>;
  /** Where CHP sends this server's requests, or null while it is not known yet. */
  routeTarget(): string | null;
  /** How the launched process ended, if this instance started it and it has ended. */
  exit(): ExitInfo | undefined;
  /**
   * Stop the proxy and its app; escalates until nothing is left, or throws. `routeRemoved`:
   * CHP no longer routes to this server (or never did), so its address may be freed.
   */
  stop(opts?: StopOptions): Promise<void>;
  /** Clean up what a dead proxy left behind (or cancel a job), without asking it. */
  kill(): Promise<void>;
}

/**
 * How a server comes to life: a factory of launches. The lifecycle depends on this contract
 * alone; the sudo, local and slurm launchers implement it and pass the same contract tests
 * (test/integration/launchers/launcher-contract.ts).
 */
export interface Launcher {
  readonly kind: LauncherKind;
  /**
   * Start the per-user proxy for `spec`, with its output appended to `logFile`. Resolves
   * once the process (or job) exists, not once it is ready; it outlives the service.
   */
  start(spec: StartRequest, logFile: string): Promise<Launch>;
  /** The launch of a server started earlier, perhaps by another service instance, from its row and saved state. */
  restore(ref: ServerRef, saved: string | null): Launch;
  /**
   * Called with the server id when a server this instance launched ends on its own. Only
   * launchers that see their servers end have it (a Slurm job's end is seen by probe).
   */
  onExit?(listener: (serverId: number, info: ExitInfo) => void): void;
}
