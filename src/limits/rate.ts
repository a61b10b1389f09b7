import { HubappsError } from '../errors.js';

/**
 * A token bucket: `perMinute` takes a minute to refill, and up to that many may be taken
 * at once.
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
    this.tokens = Math.min(
      this.perMinute,
      this.tokens + ((t - this.last) * this.perMinute) / 60_000,
    );
    this.last = t;
    if (this.tokens < 1) {
      throw new HubappsError(
        'rate_limited',
        `too many ${this.what} right now (${this.key}: ${this.perMinute} a minute); try again in a minute`,
      );
    }
    this.tokens -= 1;
  }
}

/** Buckets kept for this many client addresses; past that the oldest bucket is dropped (the total still holds). */
const MAX_CLIENTS = 10_000;

/**
 * A bucket per client address (http/client-address.ts) and one for everyone together, far
 * larger: one client that floods is refused alone and cannot use up everyone's share, while
 * the total still protects the hub and the database from many clients at once.
 */
export class ClientRateLimit {
  private readonly clients = new Map<string, RateLimit>();
  private readonly total: RateLimit;

  constructor(
    private readonly perClient: number,
    total: number,
    private readonly what: string,
    private readonly key: string,
    totalKey: string,
    private readonly now: () => number = Date.now,
  ) {
    this.total = new RateLimit(total, `${what} from all clients`, totalKey, now);
  }

  /** Take one for `client`, or throw 429 naming the limit that was hit. */
  take(client: string): void {
    let bucket = this.clients.get(client);
    if (bucket === undefined) {
      if (this.clients.size >= MAX_CLIENTS) this.clients.delete(this.clients.keys().next().value!);
      bucket = new RateLimit(this.perClient, `${this.what} from your address`, this.key, this.now);
      this.clients.set(client, bucket);
    }
    bucket.take();
    this.total.take();
  }
}
