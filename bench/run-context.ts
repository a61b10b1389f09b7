/**
 * What every benchmark section gets from main: a progress line writer, and a way to
 * register its cleanup for an abort (the run's time limit, Ctrl-C, SIGTERM), so an
 * interrupted run still stops its processes and removes its accounts and files.
 */
export interface RunContext {
  note(line: string): void;
  /** Run `fn` if the run is aborted while the returned function has not been called. */
  onAbort(fn: () => Promise<unknown>): () => void;
}

export class Aborter {
  private readonly cleanups = new Set<() => Promise<unknown>>();
  private aborting = false;

  readonly context = (note: (line: string) => void): RunContext => ({
    note,
    onAbort: (fn) => {
      this.cleanups.add(fn);
      return () => void this.cleanups.delete(fn);
    },
  });

  /** Run every registered cleanup (each at most 60 s), then exit with `code`. */
  async abort(code: number, why: string, note: (line: string) => void): Promise<never> {
    if (!this.aborting) {
      this.aborting = true;
      note(`aborting: ${why}; cleaning up`);
      const limit = (p: Promise<unknown>) =>
        Promise.race([p, new Promise((r) => setTimeout(r, 60_000).unref())]);
      await Promise.allSettled([...this.cleanups].map((fn) => limit(fn())));
    }
    process.exit(code);
  }
}
