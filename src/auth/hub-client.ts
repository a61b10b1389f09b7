import { createHash } from 'node:crypto';
import { HubappsError } from '../errors.js';
import type { ClientRateLimit } from '../limits/rate.js';
import { ExpiringCache } from '../users/cache.js';
import { HubNames } from './hub-names.js';

/** What JupyterHub's /user answers about a token's owner (the fields hubapps uses). */
export interface HubUser {
  name: string;
  admin: boolean;
  groups: string[];
  /** The token's own scopes, as the hub lists them (empty when the hub sends none). */
  scopes: string[];
}

/** A token JupyterHub issued: the secret, its id at the hub and its owner's hub name. */
export interface IssuedHubToken {
  token: string;
  id: string;
  hubUser: string;
}

/** JupyterHub names a service's OAuth client "service-NAME". */
export function hubServiceName(clientId: string): string {
  return clientId.startsWith('service-') ? clientId.slice('service-'.length) : clientId;
}

/** Room for this many unknown tokens in the negative cache; past that the oldest go first. */
const MAX_CACHED_TOKENS = 10_000;

/**
 * Does a token with these scopes grant access to the service `service`? JupyterHub lists a
 * token's scopes expanded, so a token that may reach every service carries
 * `access:services` and one limited to us `access:services!service=NAME`. Anything else (a
 * token made for reading users, an OAuth token issued to another hub service) is not a
 * credential for hubapps, even though the hub says whose it is.
 */
export function grantsService(scopes: readonly string[], service: string): boolean {
  return (
    scopes.includes('access:services') || scopes.includes(`access:services!service=${service}`)
  );
}

/**
 * The JupyterHub REST API, reached over loopback with the service's own token: checks
 * users' JupyterHub tokens (cached briefly, so a revoked token stops working within the
 * cache time) and forwards server activity to the hub's idle culler.
 */
export class HubClient {
  private readonly tokens: ExpiringCache<HubUser>;
  /** `true`: the hub did not know the token; a name: the hub knew whose it is, but it lacks the scope. */
  private readonly unknown: ExpiringCache<true | string>;

  /**
   * `service` is this service's name in JupyterHub (the client id without "service-");
   * `lookups` limits how many tokens not seen before are sent to the hub; `names` turns hub
   * user names into Unix accounts and back (jupyterhub.usernames).
   */
  constructor(
    private readonly apiUrl: string,
    private readonly serviceToken: string,
    cacheSeconds: number,
    private readonly service: string,
    private readonly lookups?: ClientRateLimit,
    private readonly names: HubNames = new HubNames({ usernames: 'unix', username_map: {} }),
  ) {
    this.tokens = new ExpiringCache(cacheSeconds * 1000, MAX_CACHED_TOKENS);
    // Refusals are remembered for at least a minute: a client that repeats a bad token costs nothing.
    this.unknown = new ExpiringCache(Math.max(60, cacheSeconds) * 1000, MAX_CACHED_TOKENS);
  }

  /** The Unix account a hub user acts as; user_not_allowed 403 for one jupyterhub.username_map does not list. */
  account(hubName: string): string {
    return this.names.account(hubName);
  }

  /**
   * The owner of a JupyterHub token (`name` is the Unix account it acts as), or undefined
   * when the hub does not know it. Throws user_not_allowed 403 for a hub user without an
   * account (jupyterhub.usernames: mapped); token_scope 403 when the hub knows the token but
   * it does not grant access to this service (the holder must learn which scope to ask for,
   * not to "log in"); 429 when too many new tokens arrive at once from `client` or from
   * everyone (they would each cost a hub request).
   */
  async userForToken(token: string, client: string): Promise<HubUser | undefined> {
    const key = hashKey(token);
    const cached = this.tokens.get(key);
    if (cached) return { ...cached, name: this.account(cached.name) };
    const refused = this.unknown.get(key);
    if (refused === true) return undefined;
    if (refused !== undefined) throw this.missingScope(refused);
    this.lookups?.take(client);
    const res = await this.call('GET', '/user', token);
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel();
      this.unknown.set(key, true);
      return undefined;
    }
    if (!res.ok)
      throw new HubappsError('hub_error', `JupyterHub answered ${res.status} to a token check`);
    const user = parseHubUser(await res.json());
    if (!grantsService(user.scopes, this.service)) {
      this.unknown.set(key, user.name);
      throw this.missingScope(user.name);
    }
    this.tokens.set(key, user);
    return { ...user, name: this.account(user.name) };
  }

  private missingScope(owner: string): HubappsError {
    return new HubappsError(
      'token_scope',
      `this JupyterHub token of ${owner} does not grant access to hubapps: it needs the scope access:services!service=${this.service} ` +
        `(or access:services). Request a token with that scope at the hub's /hub/token page or API, or use a hubapps API token`,
    );
  }

  /** With an OAuth access token from the login flow. */
  async userForAccessToken(accessToken: string): Promise<HubUser> {
    const res = await this.call('GET', '/user', accessToken);
    if (!res.ok)
      throw new HubappsError(
        'hub_error',
        `JupyterHub answered ${res.status} when asked who logged in`,
      );
    return parseHubUser(await res.json());
  }

  /** Does the hub answer at all? Its API root needs no token. Asked before sending a browser to log in there. */
  async reachable(): Promise<boolean> {
    try {
      const res = await fetch(`${this.apiUrl.replace(/\/$/, '')}/`, {
        signal: AbortSignal.timeout(3000),
      });
      await res.body?.cancel();
      return res.ok;
    } catch {
      return false;
    }
  }

  /** `account`'s last activity, under its hub name; an account no hub user maps to has none to send. */
  async postActivity(
    account: string,
    lastActivity: string,
    hubServer?: { user: string; server: string },
  ): Promise<void> {
    const user = hubServer?.user ?? this.names.hubName(account);
    if (user === undefined) return;
    const res = await this.call(
      'POST',
      `/users/${encodeURIComponent(user)}/activity`,
      this.serviceToken,
      {
        last_activity: lastActivity,
        // A server the hub started through HubappsSpawner: the hub's own record of it moves too.
        ...(hubServer ? { servers: { [hubServer.server]: { last_activity: lastActivity } } } : {}),
      },
    );
    if (!res.ok && res.status !== 404)
      throw new HubappsError(
        'hub_error',
        `JupyterHub answered ${res.status} to an activity update for ${user}`,
      );
  }

  /**
   * Have the hub issue a token for `account`'s hub user with `scopes` (the service needs the
   * `tokens` scope on that user); undefined when no hub user maps to the account. Throws
   * hub_error with the hub's own reason when it refuses, hub_unreachable when it is down.
   */
  async issueToken(
    account: string,
    request: { note: string; expiresInS: number; scopes: readonly string[] },
  ): Promise<IssuedHubToken | undefined> {
    const user = this.names.hubName(account);
    if (user === undefined) return undefined;
    const res = await this.call(
      'POST',
      `/users/${encodeURIComponent(user)}/tokens`,
      this.serviceToken,
      {
        note: request.note,
        expires_in: request.expiresInS,
        scopes: request.scopes,
      },
    );
    if (!res.ok)
      throw new HubappsError(
        'hub_error',
        `JupyterHub answered ${res.status} when asked for a token of ${user}: ${await hubReason(res)}`,
      );
    const body = (await res.json()) as { token?: unknown; id?: unknown };
    if (typeof body.token !== 'string' || typeof body.id !== 'string')
      throw new HubappsError(
        'hub_error',
        "JupyterHub's answer to a token request has no token or id",
      );
    return { token: body.token, id: body.id, hubUser: user };
  }

  /** Delete a token the hub issued; one the hub no longer has (deleted, expired, user gone) counts as deleted. */
  async deleteToken(hubUser: string, id: string): Promise<void> {
    const res = await this.call(
      'DELETE',
      `/users/${encodeURIComponent(hubUser)}/tokens/${encodeURIComponent(id)}`,
      this.serviceToken,
    );
    if (res.ok || res.status === 404) {
      await res.body?.cancel();
      return;
    }
    throw new HubappsError(
      'hub_error',
      `JupyterHub answered ${res.status} when asked to delete token ${id} of ${hubUser}: ${await hubReason(res)}`,
    );
  }

  private async call(
    method: string,
    path: string,
    token: string,
    body?: unknown,
  ): Promise<Response> {
    try {
      return await fetch(`${this.apiUrl.replace(/\/$/, '')}${path}`, {
        method,
        headers: {
          authorization: `token ${token}`,
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(5000),
      });
    } catch (err) {
      throw new HubappsError(
        'hub_unreachable',
        `JupyterHub is not reachable at ${this.apiUrl} (jupyterhub.api_url): is it running?`,
        { cause: err },
      );
    }
  }
}

function parseHubUser(body: unknown): HubUser {
  const b = body as { name?: unknown; admin?: unknown; groups?: unknown; scopes?: unknown };
  if (typeof b.name !== 'string')
    throw new HubappsError('hub_error', "JupyterHub's /user answer has no name");
  return {
    name: b.name,
    admin: b.admin === true,
    groups: strings(b.groups),
    scopes: strings(b.scopes),
  };
}

/** JupyterHub's JSON error answers carry `message`; the status line says the rest. */
async function hubReason(res: Response): Promise<string> {
  const body = (await res.json().catch(() => ({}))) as { message?: unknown };
  return typeof body.message === 'string' ? body.message.slice(0, 300) : res.statusText;
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((g): g is string => typeof g === 'string') : [];
}

/** Tokens are kept in memory only as hashes. */
function hashKey(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}
