/**
 * The proxy's two calls to JupyterHub's API for a server the hub started (StartRequest.hub):
 * trading an OAuth code for the user's access token (POST {apiUrl}oauth2/token, the
 * server's api token as client secret, as JupyterHub's HubOAuth does), and asking who a
 * token belongs to and what it may do (GET {apiUrl}user, whose answer lists the token's
 * expanded scopes). Bounded in time and answer size like the calls to the service. Neither
 * the api token nor a user's token ever goes into a log line.
 */
import { boundedCall, type CallAnswer } from './bounded-call.js';
import type { HubBinding } from '../../protocol/wire.js';
import { describeError, log } from '../log.js';

const MAX_BODY = 64 * 1024;

/** A hub user as GET {apiUrl}user names them (JupyterHub's user model, the fields the proxy reads). */
export interface HubUser {
  name: string;
  admin: boolean;
  scopes: string[];
}

export type HubUserAnswer =
  | { kind: 'user'; user: HubUser }
  /** The hub does not know the token (anymore): 401 or 403. */
  | { kind: 'denied' }
  /** No usable answer: the hub is down, slow or said something unexpected. */
  | { kind: 'unavailable' };

export type CodeAnswer =
  | { kind: 'token'; token: string }
  /** The hub refused the code: unknown, used, expired, or issued to another client. */
  | { kind: 'refused' }
  | { kind: 'unavailable' };

type HubAnswer = CallAnswer;

/**
 * Holding the unfiltered `access:servers`, or any one of the server's own access scopes
 * (`access:servers!server=alice/lab`, `…!user=alice`, a group's), lets a hub user in: the
 * rule JupyterHub's own single-user servers apply.
 */
export function hubAllows(scopes: readonly string[], accessScopes: readonly string[]): boolean {
  return scopes.some((s) => s === 'access:servers' || accessScopes.includes(s));
}

export class HubClient {
  private readonly tokenUrl: URL;
  private readonly userUrl: URL;

  constructor(private readonly hub: HubBinding) {
    this.tokenUrl = new URL('oauth2/token', hub.apiUrl);
    this.userUrl = new URL('user', hub.apiUrl);
  }

  async exchangeCode(code: string): Promise<CodeAnswer> {
    const form = new URLSearchParams({
      client_id: this.hub.clientId,
      client_secret: this.hub.apiToken,
      grant_type: 'authorization_code',
      code,
      redirect_uri: this.hub.callbackPath,
    }).toString();
    let answer: HubAnswer;
    try {
      answer = await call(
        this.tokenUrl,
        'POST',
        {
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': String(Buffer.byteLength(form)),
        },
        form,
      );
    } catch (err) {
      log(`hub sign-in: JupyterHub unreachable: ${describeError(err)}`);
      return { kind: 'unavailable' };
    }
    if (answer.status >= 400 && answer.status < 500) {
      log(
        `hub sign-in: JupyterHub refused the code (HTTP ${answer.status}${oauthError(answer.body)})`,
      );
      return { kind: 'refused' };
    }
    const token = answer.status === 200 ? accessToken(answer.body) : null;
    if (token === null) {
      log(
        `hub sign-in: unexpected answer from JupyterHub's token endpoint (HTTP ${answer.status})`,
      );
      return { kind: 'unavailable' };
    }
    return { kind: 'token', token };
  }

  async user(token: string): Promise<HubUserAnswer> {
    let answer: HubAnswer;
    try {
      answer = await call(this.userUrl, 'GET', { authorization: `token ${token}` });
    } catch (err) {
      log(`hub user check: JupyterHub unreachable: ${describeError(err)}`);
      return { kind: 'unavailable' };
    }
    if (answer.status === 401 || answer.status === 403) return { kind: 'denied' };
    const user = answer.status === 200 ? hubUser(answer.body) : null;
    if (user === null) {
      log(`hub user check: unexpected answer from JupyterHub (HTTP ${answer.status})`);
      return { kind: 'unavailable' };
    }
    return { kind: 'user', user };
  }
}

function call(
  url: URL,
  method: 'GET' | 'POST',
  headers: Record<string, string>,
  body?: string,
): Promise<HubAnswer> {
  return boundedCall(url, method, { accept: 'application/json', ...headers }, MAX_BODY, body);
}

function accessToken(text: string): string | null {
  try {
    const v = JSON.parse(text) as { access_token?: unknown };
    return typeof v.access_token === 'string' && v.access_token !== '' ? v.access_token : null;
  } catch {
    return null;
  }
}

/** The OAuth error name only (`invalid_grant`), never the request's values. */
function oauthError(text: string): string {
  try {
    const v = JSON.parse(text) as { error?: unknown };
    return typeof v.error === 'string' && /^[a-z_]{1,40}$/.test(v.error) ? `: ${v.error}` : '';
  } catch {
    return '';
  }
}

function hubUser(text: string): HubUser | null {
  try {
    const v = JSON.parse(text) as Partial<HubUser>;
    if (typeof v.name !== 'string' || !Array.isArray(v.scopes)) return null;
    return {
      name: v.name,
      admin: v.admin === true,
      scopes: v.scopes.filter((s): s is string => typeof s === 'string'),
    };
  } catch {
    return null;
  }
}
