/**
 * Tokens in `Authorization` on a server the hub started: JupyterHub tokens, checked at the
 * hub (GET {apiUrl}user) against the server's access scopes. Yes and no are cached per
 * token hash for at most a minute (and never longer than the re-validation interval), and
 * concurrent checks of one token share one call. A hubapps API token is refused without
 * asking: it does not open a hub server, and the hub has no business seeing it.
 */
import { createHash } from 'node:crypto';
import { hubAllows, type HubClient } from './hub-client.js';
import type { TokenIdentity } from './token-check.js';

const MAX_CACHE = 1000;
const MAX_TTL_MS = 60_000;
/** The prefix of every token hubapps makes (auth/tokens). */
const HUBAPPS_TOKEN = 'ha_';

export class HubTokenChecker {
  private readonly cache = new Map<string, { who: TokenIdentity; until: number }>();
  private readonly inFlight = new Map<string, Promise<TokenIdentity>>();
  private readonly ttlMs: number;

  constructor(
    private readonly client: HubClient,
    private readonly accessScopes: readonly string[],
    revalidateMs: number,
  ) {
    this.ttlMs = Math.min(MAX_TTL_MS, revalidateMs);
  }

  /** Synchronous while a cached answer is fresh. */
  identify(token: string): TokenIdentity | Promise<TokenIdentity> {
    if (token.startsWith(HUBAPPS_TOKEN)) return { verdict: 'denied', user: null };
    const key = createHash('sha256').update(token).digest('base64');
    const hit = this.cache.get(key);
    if (hit && hit.until > Date.now()) return hit.who;
    if (hit) this.cache.delete(key);
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.ask(token, key).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  private async ask(token: string, key: string): Promise<TokenIdentity> {
    const answer = await this.client.user(token);
    if (answer.kind === 'unavailable') return { verdict: 'unavailable', user: null };
    const who: TokenIdentity =
      answer.kind === 'denied'
        ? { verdict: 'denied', user: null }
        : {
            verdict: hubAllows(answer.user.scopes, this.accessScopes) ? 'allowed' : 'denied',
            user: answer.user.name,
          };
    const oldest = this.cache.size >= MAX_CACHE ? this.cache.keys().next() : null;
    if (oldest !== null && oldest.done !== true) this.cache.delete(oldest.value);
    this.cache.set(key, { who, until: Date.now() + this.ttlMs });
    return who;
  }
}
