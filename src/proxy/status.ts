/**
 * What the proxy knows about its app, as the health endpoint reports it: state, pids,
 * target, times, numbered progress messages and the exit reason. A health call may wait for
 * news (`changed`), so the service learns that the app is ready when it happens instead of
 * at its next poll.
 */
import type { AppTarget } from './app/launch-plan.js';
import type { HealthReport, ProgressMessage, ProxyState } from '../protocol/wire.js';
import type { Activity } from './http/activity.js';
import { log } from './log.js';

/** Progress messages kept for late readers; a start produces a handful. */
const MAX_PROGRESS = 200;

export class ProxyStatus {
  private current: ProxyState = 'starting';
  appPid: number | null = null;
  appTarget: AppTarget | null = null;
  readonly startedAt = new Date();
  readyAt: Date | null = null;
  exit: HealthReport['exit'] = null;
  private readonly progressLog: ProgressMessage[] = [];
  private seq = 0;
  private readonly waiters = new Set<() => void>();

  constructor(
    private readonly serverId: number,
    private readonly activity: Activity,
  ) {}

  get state(): ProxyState {
    return this.current;
  }

  set state(next: ProxyState) {
    this.current = next;
    this.wake();
  }

  /** Record a progress message (also logged). */
  progress(message: string): void {
    this.progressLog.push({ seq: ++this.seq, at: new Date().toISOString(), message });
    if (this.progressLog.length > MAX_PROGRESS) this.progressLog.shift();
    log(message);
    this.wake();
  }

  /**
   * Resolves once there is news for a reader who has seen progress up to `since`: at once
   * when there already is, or when the app is past starting; otherwise at the next progress
   * message or state change, or after `maxMs`.
   */
  changed(since: number, maxMs: number): Promise<void> {
    if (maxMs <= 0 || this.seq > since || this.current !== 'starting') return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, maxMs);
      this.waiters.add(done);
    });
  }

  private wake(): void {
    for (const done of [...this.waiters]) done();
  }

  report(since = 0): HealthReport {
    return {
      serverId: this.serverId,
      state: this.current,
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
