import fs from 'node:fs';

/** What the proxy gives its app: the kernel's badness score counts 1000 as "all memory". */
export const APP_OOM_SCORE_ADJ = 500;

/**
 * Make the app, not its proxy, the one the kernel kills when the server meets its memory
 * limit: the proxy's node maps more memory than a young app, and a killed proxy would leave
 * the server without the process that reports why. Raising the score needs no privilege;
 * the proxy does it as soon as the app exists, before the app has had time to grow.
 */
export function preferAsOomVictim(pid: number | undefined): void {
  if (!pid) return;
  try {
    fs.writeFileSync(`/proc/${pid}/oom_score_adj`, String(APP_OOM_SCORE_ADJ));
  } catch {
    // The app has already exited (its exit is reported), or /proc is not Linux's.
  }
}
