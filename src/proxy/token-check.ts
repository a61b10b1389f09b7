/**
 * Asking the service whether an API token may use this server (POST ProxyAuthRequest to
 * {serviceUrl}api/internal/proxy-auth with the per-server secret). Answers are cached per
 * token hash for min(ttl, 60) s, and concurrent checks of one token share one call, so a
 * busy API client costs one round trip a minute.
 */
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { SERVICE_PROXY_AUTH_PATH, type ProxyAuthRequest, type ProxyAuthResponse } from './protocol.js';
import { describeError, log } from './log.js';

export type TokenVerdict = 'allowed' | 'denied' | 'unavailable';

const MAX_CACHE = 1000;
const MAX_TTL_S = 60;
const CALL_TIMEOUT_MS = 5000;
const MAX_BODY = 16 * 1024;

export interface TokenCheckOptions {
  serverId: number;
  /** The server's owner: tokens of this user (or of an admin) are allowed. */
  user: string;
  secret: string;
  serviceUrl: string;
}

export class TokenChecker {
  private readonly url: URL;
  private readonly cache = new Map<string, { verdict: TokenVerdict; until: number }>();
  private readonly inFlight = new Map<string, Promise<TokenVerdict>>();

  constructor(private readonly opts: TokenCheckOptions) {
    this.url = new URL(SERVICE_PROXY_AUTH_PATH, opts.serviceUrl);
  }

  /** The verdict for a token; synchronous while a cached answer is fresh, so busy API clients stay on the fast path. */
  check(token: string): TokenVerdict | Promise<TokenVerdict> {
    const key = createHash('sha256').update(token).digest('base64');
    const hit = this.cache.get(key);
    if (hit && hit.until > Date.now()) return hit.verdict;
    if (hit) this.cache.delete(key);
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.ask(token, key).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  private async ask(token: string, key: string): Promise<TokenVerdict> {
    let answer: { status: number; body: string };
    try {
      answer = await this.post({ serverId: this.opts.serverId, token });
    } catch (err) {
      log(`token check: service unreachable: ${describeError(err)}`);
      return 'unavailable';
    }
    if (answer.status === 401 || answer.status === 403) return 'denied';
    const parsed = answer.status === 200 ? parseAnswer(answer.body) : null;
    if (!parsed) {
      log(`token check: unexpected answer from the service (HTTP ${answer.status})`);
      return 'unavailable';
    }
    const verdict: TokenVerdict = parsed.user === this.opts.user || parsed.admin ? 'allowed' : 'denied';
    const ttl = Math.min(parsed.ttl, MAX_TTL_S);
    if (ttl > 0) this.remember(key, verdict, ttl);
    return verdict;
  }

  private remember(key: string, verdict: TokenVerdict, ttlS: number): void {
    if (this.cache.size >= MAX_CACHE) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, { verdict, until: Date.now() + ttlS * 1000 });
  }

  private post(payload: ProxyAuthRequest): Promise<{ status: number; body: string }> {
    const body = JSON.stringify(payload);
    return new Promise((resolve, reject) => {
      const req = request(
        this.url,
        {
          method: 'POST',
          timeout: CALL_TIMEOUT_MS,
          headers: { authorization: `Bearer ${this.opts.secret}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > MAX_BODY) res.destroy(new Error('answer too large'));
            else chunks.push(c);
          });
          res.once('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          res.once('error', reject);
        },
      );
      req.once('timeout', () => req.destroy(Object.assign(new Error('no answer in time'), { code: 'ETIMEDOUT' })));
      req.once('error', reject);
      req.end(body);
    });
  }
}

function parseAnswer(text: string): ProxyAuthResponse | null {
  try {
    const v = JSON.parse(text) as Partial<ProxyAuthResponse>;
    if (typeof v.user !== 'string' || typeof v.admin !== 'boolean') return null;
    return { user: v.user, admin: v.admin, ttl: typeof v.ttl === 'number' && Number.isFinite(v.ttl) ? v.ttl : 0 };
  } catch {
    return null;
  }
}
