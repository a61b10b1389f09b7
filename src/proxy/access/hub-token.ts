/**
 * Tokens in `Authorization` on a server the hub started: JupyterHub tokens, checked at the
 * hub (GET {apiUrl}user) against the server's access scopes. Yes and no are cached per
 * token hash for at most a minute (and never longer than the re-validation interval), and
 * concurrent checks of one token share one call. A hubapps API token is refused without
 * asking: it does not open a hub server, and the hub has no business seeing it.
 */
import { hubAllows, type HubClient } from './hub-client.js';
import { TokenAnswers, type TokenAnswer, type TokenIdentity } from './token-answers.js';

const MAX_TTL_MS = 60_000;
/** The prefix of every token hubapps makes (auth/tokens). */
const HUBAPPS_TOKEN = 'ha_';

export class HubTokenChecker {
  private readonly answers = new TokenAnswers((token) => this.ask(token));
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
    return this.answers.identify(token);
  }

  private async ask(token: string): Promise<TokenAnswer> {
    const answer = await this.client.user(token);
    if (answer.kind === 'unavailable')
      return { who: { verdict: 'unavailable', user: null }, ttlMs: 0 };
    const who: TokenIdentity =
      answer.kind === 'denied'
        ? { verdict: 'denied', user: null }
        : {
            verdict: hubAllows(answer.user.scopes, this.accessScopes) ? 'allowed' : 'denied',
            user: answer.user.name,
          };
    return { who, ttlMs: this.ttlMs };
  }
}
