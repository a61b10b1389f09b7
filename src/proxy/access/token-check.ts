/**
 * Asking the service whether an API token may use this server (POST ProxyAuthRequest to
 * {serviceUrl}api/internal/proxy-auth with the per-server secret). Answers are cached per
 * token hash for min(ttl, 60) s, and concurrent checks of one token share one call, so a
 * busy API client costs one round trip a minute.
 */
import {
  SERVICE_PROXY_AUTH_PATH,
  type ProxyAuthRequest,
  type ProxyAuthResponse,
} from '../../protocol/wire.js';
import { describeError, log } from '../log.js';
import { postToService, type ServiceAnswer } from './service-call.js';
import { TokenAnswers, type TokenAnswer, type TokenIdentity } from './token-answers.js';

export type { TokenIdentity, TokenVerdict } from './token-answers.js';

const MAX_TTL_S = 60;

export interface TokenCheckOptions {
  serverId: number;
  /** The server's owner: tokens of this user (or of an admin) are allowed. */
  user: string;
  secret: string;
  serviceUrl: string;
}

export class TokenChecker {
  private readonly url: URL;
  private readonly answers = new TokenAnswers((token) => this.ask(token));

  constructor(private readonly opts: TokenCheckOptions) {
    this.url = new URL(SERVICE_PROXY_AUTH_PATH, opts.serviceUrl);
  }

  /**
   * The verdict for a token with its user (the port proxy asks the service about that
   * user); synchronous while a cached answer is fresh, so busy API clients stay on the fast path.
   */
  identify(token: string): TokenIdentity | Promise<TokenIdentity> {
    return this.answers.identify(token);
  }

  private async ask(token: string): Promise<TokenAnswer> {
    let answer: ServiceAnswer;
    try {
      answer = await postToService(this.url, this.opts.secret, {
        serverId: this.opts.serverId,
        token,
      } satisfies ProxyAuthRequest);
    } catch (err) {
      log(`token check: service unreachable: ${describeError(err)}`);
      return { who: { verdict: 'unavailable', user: null }, ttlMs: 0 };
    }
    if (answer.status === 401 || answer.status === 403)
      return { who: { verdict: 'denied', user: null }, ttlMs: 0 };
    const parsed = answer.status === 200 ? parseAnswer(answer.body) : null;
    if (!parsed) {
      log(`token check: unexpected answer from the service (HTTP ${answer.status})`);
      return { who: { verdict: 'unavailable', user: null }, ttlMs: 0 };
    }
    const who: TokenIdentity = {
      verdict: parsed.user === this.opts.user || parsed.admin ? 'allowed' : 'denied',
      user: parsed.user,
    };
    return { who, ttlMs: Math.max(0, Math.min(parsed.ttl, MAX_TTL_S)) * 1000 };
  }
}

function parseAnswer(text: string): ProxyAuthResponse | null {
  try {
    const v = JSON.parse(text) as Partial<ProxyAuthResponse>;
    if (typeof v.user !== 'string' || typeof v.admin !== 'boolean') return null;
    return {
      user: v.user,
      admin: v.admin,
      ttl: typeof v.ttl === 'number' && Number.isFinite(v.ttl) ? v.ttl : 0,
    };
  } catch {
    return null;
  }
}
