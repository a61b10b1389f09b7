/**
 * "Has this happened within the last `windowMs`?" for keys such as (user, server, reason):
 * lets a repeated event be recorded once per window. Bounded: past `maxKeys` the oldest key
 * is forgotten, which at worst records an event once more.
 */
export class OncePer {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly windowMs: number,
    private readonly maxKeys = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** True the first time `key` comes up in a window, false for repeats within it. */
  first(key: string): boolean {
    const t = this.now();
    const last = this.seen.get(key);
    if (last !== undefined && t - last < this.windowMs) return false;
    this.seen.delete(key);
    if (this.seen.size >= this.maxKeys) this.seen.delete(this.seen.keys().next().value!);
    this.seen.set(key, t);
    return true;
  }
}
