/**
 * The app as a process: spawned detached (its own process group) with a clean
 * environment, its output piped through the proxy into the per-server log (within the log's budget),
 * and stopped as a whole group plus any process that still carries the server's marks.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { LaunchPlan } from './launch-plan.js';
import { PROXY_PID_VAR, SERVER_ID_VAR } from './marks.js';
import { preferAsOomVictim } from '../../limits/oom-score.js';
import { markedProcesses, signal, waitUntil } from '../../procfs/processes.js';

export interface AppExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the app could not be started at all (e.g. ENOENT for the command). */
  error: string | null;
}

/** What the supervisor needs of a running app: a spawned command (AppProcess) or a built-in app (src/apps/). */
export interface RunningApp {
  /** Resolves once the app has ended. */
  readonly exited: Promise<AppExit>;
  /** Stop the app and whatever it started: a signal, up to `graceMs` to go, then SIGKILL. */
  stop(graceMs: number): Promise<void>;
}

export class AppProcess implements RunningApp {
  readonly pid: number | null;
  /** Resolves once the app's main process has exited (or failed to start). */
  readonly exited: Promise<AppExit>;
  private exitInfo: AppExit | null = null;
  private readonly marks: Record<string, string>;

  private constructor(child: ChildProcess, env: Record<string, string>) {
    this.pid = child.pid ?? null;
    this.marks = { [SERVER_ID_VAR]: env[SERVER_ID_VAR]!, [PROXY_PID_VAR]: env[PROXY_PID_VAR]! };
    this.exited = new Promise((resolve) => {
      child.on('error', (err: NodeJS.ErrnoException) => {
        if (this.pid !== null) return;
        this.exitInfo = {
          code: null,
          signal: null,
          error: `cannot run ${child.spawnfile}: ${err.code ?? err.message}`,
        };
        resolve(this.exitInfo);
      });
      child.once('exit', (code, sig) => {
        this.exitInfo = { code, signal: sig, error: null };
        resolve(this.exitInfo);
      });
    });
  }

  /** `output` gets what the app writes on stdout and stderr (the proxy writes it to the log within its budget). */
  static spawn(plan: LaunchPlan, output: (chunk: Buffer) => void): AppProcess {
    const [command, ...args] = plan.argv;
    const child = spawn(command!, args, {
      cwd: plan.cwd,
      env: plan.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    preferAsOomVictim(child.pid);
    child.stdout?.on('data', output);
    child.stderr?.on('data', output);
    return new AppProcess(child, plan.env);
  }

  get hasExited(): boolean {
    return this.exitInfo !== null;
  }

  /** Is anything of the app left: its process group or a process carrying its marks? */
  anythingLeft(): boolean {
    return (this.pid !== null && signal(-this.pid, 0)) || markedProcesses(this.marks).length > 0;
  }

  /**
   * SIGTERM to the process group and to escaped marked processes, up to `graceMs` for
   * them to go, then SIGKILL. Resolves when nothing is left (or after a last short wait).
   */
  async stop(graceMs: number): Promise<void> {
    this.signalAll('SIGTERM');
    if (await waitUntil(() => !this.anythingLeft(), graceMs, 100)) return;
    this.signalAll('SIGKILL');
    await waitUntil(() => !this.anythingLeft(), 2000, 50);
  }

  private signalAll(sig: NodeJS.Signals): void {
    if (this.pid !== null) signal(-this.pid, sig);
    for (const pid of markedProcesses(this.marks)) signal(pid, sig);
  }
}

export function describeExit(exit: AppExit): string {
  if (exit.error) return exit.error;
  if (exit.signal) return `app was killed by ${exit.signal}`;
  return `app exited with code ${exit.code}`;
}
