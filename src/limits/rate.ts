import { HubappsError } from '../errors.js';

/**
 * A token bucket shared by everyone: `perMinute` takes a minute to refill, and up to that
 * many may be taken at once. Global rather than per client address, because behind
 * configurable-http-proxy every request comes from loopback and forwarded addresses can
 * be forged; the limit protects the hub and the database, not fairness between clients.
 */
export class RateLimit {
  private tokens: number;
  private last: number;

  constructor(
    private readonly perMinute: number,
    private readonly what: string,
    private readonly key: string,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = perMinute;
    this.last = now();
  }

  /** Take one, or throw 429 saying which limit was hit. */
  take(): void {
    const t = this.now();
    this.tokens = Math.min(this.perMinute, this.tokens + ((t - this.last) * this.perMinute) / 60_000);
    this.last = t;
    if (this.tokens < 1) {
      throw new HubappsError('rate_limited', 429, `too many ${this.what} right now (${this.key}: ${this.perMinute} a minute); try again in a minute`);
    }
    this.tokens -= 1;
  }
}
