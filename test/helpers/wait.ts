import { setTimeout as sleep } from 'node:timers/promises';

export interface WaitOptions {
  /** Give up after this many milliseconds (default 5000). */
  timeout?: number;
  /** Pause between attempts in milliseconds (default 50). */
  interval?: number;
  /** Said in the error on timeout, e.g. 'the route to appear'. */
  what?: string;
}

/**
 * Call `fn` until it returns a truthy value and return that value. A throw counts as "not
 * yet"; on timeout the error names `what` and carries the last throw, so a failing test says
 * what it was waiting for instead of only "timeout".
 */
export async function waitFor<T>(
  fn: () => T | Promise<T>,
  opts: WaitOptions = {},
): Promise<NonNullable<T>> {
  const timeout = opts.timeout ?? 5000;
  const deadline = Date.now() + timeout;
  let last: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) break;
    await sleep(opts.interval ?? 50);
  }
  const why = last instanceof Error ? `; last error: ${last.message}` : '';
  throw new Error(`timed out after ${timeout} ms waiting for ${opts.what ?? 'a condition'}${why}`, {
    cause: last,
  });
}
