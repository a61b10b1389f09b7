/**
 * Asking the service whether an API token may use this server (POST ProxyAuthRequest to
 * {serviceUrl}api/internal/proxy-auth with the per-server secret). Answers are cached per
 * token hash for min(ttl, 60) s, and concurrent checks of one token share one call, so a
 * busy API client costs one round trip a minute.
 */
import { createHash } from 'node:crypto';
import {
  SERVICE_PROXY_AUTH_PATH,
  type ProxyAuthRequest,
  type ProxyAuthResponse,
} from '../../protocol/wire.js';
import { describeError, log } from '../log.js';
import { postToService, type ServiceAnswer } from './service-call.js';

export type TokenVerdict = 'allowed' | 'denied' | 'unavailable';
/** A verdict and, when the service named one, whose token it is. */
export interface TokenIdentity {
  verdict: TokenVerdict;
  user: string | null;
}

const MAX_CACHE = 1000;
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
  private readonly cache = new Map<string, { who: TokenIdentity; until: number }>();
  private readonly inFlight = new Map<string, Promise<TokenIdentity>>();

  constructor(private readonly opts: TokenCheckOptions) {
    this.url = new URL(SERVICE_PROXY_AUTH_PATH, opts.serviceUrl);
  }

  /**
   * The verdict for a token with its user (the port proxy asks the service about that
   * user); synchronous while a cached answer is fresh, so busy API clients stay on the fast path.
   */
  identify(token: string): TokenIdentity | Promise<TokenIdentity> {
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
    let answer: ServiceAnswer;
    try {
      answer = await postToService(this.url, this.opts.secret, {
        serverId: this.opts.serverId,
        token,
      } satisfies ProxyAuthRequest);
    } catch (err) {
      log(`token check: service unreachable: ${describeError(err)}`);
      return { verdict: 'unavailable', user: null };
    }
    if (answer.status === 401 || answer.status === 403) return { verdict: 'denied', user: null };
    const parsed = answer.status === 200 ? parseAnswer(answer.body) : null;
    if (!parsed) {
      log(`token check: unexpected answer from the service (HTTP ${answer.status})`);
      return { verdict: 'unavailable', user: null };
    }
    const who: TokenIdentity = {
      verdict: parsed.user === this.opts.user || parsed.admin ? 'allowed' : 'denied',
      user: parsed.user,
    };
    const ttl = Math.min(parsed.ttl, MAX_TTL_S);
    if (ttl > 0) this.remember(key, who, ttl);
    return who;
  }

  private remember(key: string, who: TokenIdentity, ttlS: number): void {
    if (this.cache.size >= MAX_CACHE) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, { who, until: Date.now() + ttlS * 1000 });
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
