import { currentAttemptStart, tailLog } from '../store/server-logs.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { explainEarlyExit, type StartFailure } from '../launchers/start-failure.js';
import type { ServerRow } from '../store/servers.js';
import type { LifecycleDeps } from './deps.js';
import type { Launches } from './launches.js';

/**
 * All watches of this process together poll about this many times a second at most: twenty
 * starts at once would otherwise make 800 health calls a second, which the service and the
 * starting proxies pay for with the CPU their start-up needs. One start alone still polls
 * every 25 ms.
 */
const POLLS_PER_SECOND = 200;

/**
 * How long a starting proxy may hold a health call until it has news (wire.ts,
 * HEALTH_MAX_WAIT_MS): the service learns of readiness when it happens, and a start makes a
 * few calls a second instead of forty. Also how soon a watcher notices a stop or its deadline.
 */
const HOLD_MS = 500;
let watching = 0;

export type WatchOutcome =
  | { kind: 'ready' }
  | { kind: 'failed'; failure: StartFailure }
  /** Someone else (a stop) changed the row's state: the watcher steps aside. */
  | { kind: 'superseded' };

/**
 * Follow a starting proxy until its app is ready: ask its health, which the proxy holds until
 * it has news (HOLD_MS), or poll it where it answers at once (every 25 ms for the first two
 * seconds; less often while many starts are watched at once, see POLLS_PER_SECOND), copy its
 * progress messages into events,
 * and notice an early exit (sudo refusal, port taken, app crash) or a timeout.
 */
export async function watchStart(
  deps: LifecycleDeps,
  launches: Launches,
  row: ServerRow,
  timeoutMs: number,
): Promise<WatchOutcome> {
  watching++;
  try {
    return await watchUntilSettled(deps, launches, row, timeoutMs);
  } finally {
    watching--;
  }
}

async function watchUntilSettled(
  deps: LifecycleDeps,
  launches: Launches,
  row: ServerRow,
  timeoutMs: number,
): Promise<WatchOutcome> {
  let deadline = Date.now() + timeoutMs + 5000;
  let since = 0;
  let status: string | undefined;
  const started = Date.now();
  for (;;) {
    const current = deps.store.byId(row.id);
    if (!current || current.state !== 'starting') return { kind: 'superseded' };
    // Asked for each time: the launch's state may grow meanwhile (an announced address).
    const launch = launches.of(current);
    const asked = Date.now();
    const seen = since;
    const probe = await launch.probe(since, HOLD_MS);
    // An answer counts only while what this start launched (process or job) runs: once it is gone, nothing at its address is this start's proxy.
    const report = probe.launched ? probe.report : undefined;
    if (probe.status && probe.status !== status) deps.store.progress(current, probe.status);
    status = probe.status ?? status;
    // Time in a queue is not the app's start-up time; the launcher enforces its own limit on waiting.
    if (probe.waiting) deadline = Date.now() + timeoutMs + 5000;
    if (report) {
      for (const p of report.progress) deps.store.progress(current, p.message);
      since = report.progress.at(-1)?.seq ?? since;
      const changed = launch.observe(report);
      if (changed || report.pid !== current.proxy_pid || report.appPid !== current.app_pid) {
        deps.store.update(row.id, {
          proxy_pid: report.pid,
          app_pid: report.appPid,
          ...(changed ? { launcher_state: launch.save() } : {}),
        });
      }
      if (report.state === 'ready') return { kind: 'ready' };
      if (report.state === 'exited') {
        const reason =
          probe.ended?.reason ?? report.exit?.reason ?? 'the app exited before it was ready';
        return {
          kind: 'failed',
          failure: { code: probe.ended?.code ?? 'app_exited', reason, retry: false },
        };
      }
    } else {
      const exit = launch.exit();
      if (exit || !probe.launched) {
        const lines = tailLog(current.log_file, 20);
        // Only this attempt's lines explain this failure: an earlier attempt may have failed differently.
        const tail = lines.slice(currentAttemptStart(lines));
        const failure = probe.ended
          ? { ...probe.ended, retry: false }
          : explainEarlyExit(
              launch.kind,
              exit ?? { code: null, signal: null },
              tail,
              row.user,
              deps.config.allowed_group,
            );
        return { kind: 'failed', failure };
      }
    }
    if (Date.now() > deadline) {
      return {
        kind: 'failed',
        failure: {
          code: 'start_timeout',
          reason: `the app was not ready within ${Math.round(timeoutMs / 1000)} s`,
          retry: false,
        },
      };
    }
    // A proxy that held the call until it had news is asked again at once. One that answered
    // at once without news (not listening yet, or a launcher that cannot wait) is polled:
    // often for the first two seconds, since most apps are ready by then (back-off alone
    // added ~65 ms to a start, docs/benchmarks.md), then less.
    if (report && (since > seen || Date.now() - asked >= HOLD_MS / 2)) continue;
    const shared = Math.ceil((1000 * watching) / POLLS_PER_SECOND);
    await sleep(Math.max(Date.now() - started < 2000 ? 25 : 250, shared));
  }
}
