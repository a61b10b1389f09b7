/**
 * What the proxy knows about its app, as the health endpoint reports it: state, pids,
 * target, times, numbered progress messages and the exit reason.
 */
import type { AppTarget } from './app/launch-plan.js';
import type { HealthReport, ProgressMessage, ProxyState } from '../protocol/wire.js';
import type { Activity } from './http/activity.js';
import { log } from './log.js';

/** Progress messages kept for late readers; a start produces a handful. */
const MAX_PROGRESS = 200;

export class ProxyStatus {
  state: ProxyState = 'starting';
  appPid: number | null = null;
  appTarget: AppTarget | null = null;
  readonly startedAt = new Date();
  readyAt: Date | null = null;
  exit: HealthReport['exit'] = null;
  private readonly progressLog: ProgressMessage[] = [];
  private seq = 0;

  constructor(
    private readonly serverId: number,
    private readonly activity: Activity,
  ) {}

  /** Record a progress message (also logged). */
  progress(message: string): void {
    this.progressLog.push({ seq: ++this.seq, at: new Date().toISOString(), message });
    if (this.progressLog.length > MAX_PROGRESS) this.progressLog.shift();
    log(message);
  }

  report(since = 0): HealthReport {
    return {
      serverId: this.serverId,
      state: this.state,
      pid: process.pid,
      appPid: this.appPid,
      appTarget: this.appTarget,
      startedAt: this.startedAt.toISOString(),
      readyAt: this.readyAt?.toISOString() ?? null,
      lastActivity: this.activity.lastIso(),
      progress: this.progressLog.filter((p) => p.seq > since),
      exit: this.exit,
    };
  }
}
