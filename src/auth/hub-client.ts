import { HubappsError } from '../errors.js';
import { ExpiringCache } from '../users/cache.js';

/** What JupyterHub's /user answers about a token's owner (the fields hubapps uses). */
export interface HubUser {
  name: string;
  admin: boolean;
  groups: string[];
}

/**
 * The JupyterHub REST API, reached over loopback with the service's own token: checks
 * users' JupyterHub tokens (cached briefly, so a revoked token stops working within the
 * cache time) and forwards server activity to the hub's idle culler.
 */
export class HubClient {
  private readonly tokens: ExpiringCache<HubUser | null>;

  constructor(
    private readonly apiUrl: string,
    private readonly serviceToken: string,
    cacheSeconds: number,
  ) {
    this.tokens = new ExpiringCache(cacheSeconds * 1000);
  }

  /** The owner of a JupyterHub token, or undefined when the hub does not know it. */
  async userForToken(token: string): Promise<HubUser | undefined> {
    const cached = this.tokens.get(token);
    if (cached !== undefined) return cached ?? undefined;
    const res = await this.call('GET', '/user', token);
    if (res.status === 401 || res.status === 403) {
      this.tokens.set(token, null);
      return undefined;
    }
    if (!res.ok) throw new HubappsError('hub_error', 502, `JupyterHub answered ${res.status} to a token check`);
    const user = parseHubUser(await res.json());
    this.tokens.set(token, user);
    return user;
  }

  /** With an OAuth access token from the login flow. */
  async userForAccessToken(accessToken: string): Promise<HubUser> {
    const res = await this.call('GET', '/user', accessToken);
    if (!res.ok) throw new HubappsError('hub_error', 502, `JupyterHub answered ${res.status} when asked who logged in`);
    return parseHubUser(await res.json());
  }

  /** Does the hub answer at all? Its API root needs no token. Asked before sending a browser to log in there. */
  async reachable(): Promise<boolean> {
    try {
      const res = await fetch(`${this.apiUrl.replace(/\/$/, '')}/`, { signal: AbortSignal.timeout(3000) });
      await res.body?.cancel();
      return res.ok;
    } catch {
      return false;
    }
  }

  async postActivity(user: string, lastActivity: string): Promise<void> {
    const res = await this.call('POST', `/users/${encodeURIComponent(user)}/activity`, this.serviceToken, { last_activity: lastActivity });
    if (!res.ok && res.status !== 404) throw new HubappsError('hub_error', 502, `JupyterHub answered ${res.status} to an activity update for ${user}`);
  }

  private async call(method: string, path: string, token: string, body?: unknown): Promise<Response> {
    try {
      return await fetch(`${this.apiUrl.replace(/\/$/, '')}${path}`, {
        method,
        headers: { authorization: `token ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(5000),
      });
    } catch (err) {
      throw new HubappsError('hub_unreachable', 503, `JupyterHub is not reachable at ${this.apiUrl} (jupyterhub.api_url): is it running?`, { cause: err });
    }
  }
}

function parseHubUser(body: unknown): HubUser {
  const b = body as { name?: unknown; admin?: unknown; groups?: unknown };
  if (typeof b.name !== 'string') throw new HubappsError('hub_error', 502, 'JupyterHub\'s /user answer has no name');
  return { name: b.name, admin: b.admin === true, groups: Array.isArray(b.groups) ? b.groups.filter((g): g is string => typeof g === 'string') : [] };
}
