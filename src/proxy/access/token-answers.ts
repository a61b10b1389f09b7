/**
 * Answers about tokens, cached by the token's hash (never the token itself) for as long as
 * the asker says, and shared by concurrent checks of one token: a busy API client costs one
 * round trip per cache period, and the fresh case stays synchronous.
 */
import { createHash } from 'node:crypto';

const MAX_CACHE = 1000;

export type TokenVerdict = 'allowed' | 'denied' | 'unavailable';
/** A verdict and, when the asker named one, whose token it is. */
export interface TokenIdentity {
  verdict: TokenVerdict;
  user: string | null;
}

/** An answer and how long it may be reused (0: not at all, e.g. "could not ask"). */
export interface TokenAnswer {
  who: TokenIdentity;
  ttlMs: number;
}

export class TokenAnswers {
  private readonly cache = new Map<string, { who: TokenIdentity; until: number }>();
  private readonly inFlight = new Map<string, Promise<TokenIdentity>>();

  constructor(private readonly ask: (token: string) => Promise<TokenAnswer>) {}

  identify(token: string): TokenIdentity | Promise<TokenIdentity> {
    const key = createHash('sha256').update(token).digest('base64');
    const hit = this.cache.get(key);
    if (hit && hit.until > Date.now()) return hit.who;
    if (hit) this.cache.delete(key);
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.answer(token, key).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  private async answer(token: string, key: string): Promise<TokenIdentity> {
    const { who, ttlMs } = await this.ask(token);
    if (ttlMs > 0) {
      if (this.cache.size >= MAX_CACHE) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(key, { who, until: Date.now() + ttlMs });
    }
    return who;
  }
}
