import { HubappsError } from '../errors.js';

/**
 * Open long-lived responses (progress streams) per user. Each holds a socket and a
 * listener until its server settles, so one user opening thousands would starve everyone;
 * the count lives in memory because the connections do too.
 */
export class StreamSlots {
  private readonly open = new Map<string, number>();

  constructor(private readonly perUser: number) {}

  /** Take a slot for `user` or throw 429; the returned function gives it back (once). */
  take(user: string): () => void {
    const held = this.open.get(user) ?? 0;
    if (this.perUser > 0 && held >= this.perUser) {
      throw new HubappsError(
        'limit_reached',
        `${user} already has ${this.perUser} progress streams open (limits.streams_per_user); close a launcher tab or wait for a start to finish`,
      );
    }
    this.open.set(user, held + 1);
    let given = false;
    return () => {
      if (given) return;
      given = true;
      const left = (this.open.get(user) ?? 1) - 1;
      if (left > 0) this.open.set(user, left);
      else this.open.delete(user);
    };
  }

  held(user: string): number {
    return this.open.get(user) ?? 0;
  }
}
