/**
 * Which access policy a server gets, from its start request: the service's (sessions
 * granted through the launcher's authorize page, hubapps tokens), or, for a server
 * JupyterHub started (StartRequest.hub), the hub's alone (its OAuth flow and its tokens).
 */
import { SERVICE_AUTHORIZE_PATH, type StartRequest } from '../../protocol/wire.js';
import { Access, type AccessGate, type SignInEndpoint } from './gate.js';
import { Grants, grantEndpoint } from './grant.js';
import { HubClient } from './hub-client.js';
import { HubAccess } from './hub-gate.js';
import { HubOAuth } from './hub-oauth.js';
import { HubTokenChecker } from './hub-token.js';
import { REVALIDATE_MS, SessionChecker } from './session-check.js';
import { TokenChecker } from './token-check.js';

export interface AccessParts {
  gate: AccessGate;
  signIn: SignInEndpoint;
  /** The service's policy, which the user's own ports build on; null for a hub server (no ports). */
  service: Access | null;
  /** Where the proxy's pages link back to: the launcher, or the hub's home page. */
  home: string;
}

export function accessParts(req: StartRequest): AccessParts {
  return req.hub === undefined ? serviceAccess(req) : hubAccess(req, req.hub);
}

function serviceAccess(req: StartRequest): AccessParts {
  const home = (req.launcherOrigin ?? req.publicOrigin) + new URL(req.serviceUrl).pathname;
  const common = { serverId: req.server.id, secret: req.secret, serviceUrl: req.serviceUrl };
  const authorizeUrl = `${home}${SERVICE_AUTHORIZE_PATH}?${new URLSearchParams({ user: req.server.user, server: req.server.name })}`;
  const access = new Access(
    new TokenChecker({ ...common, user: req.server.user }),
    new SessionChecker(common),
    {
      serverId: req.server.id,
      prefix: req.prefix,
      secureCookie: req.publicOrigin.startsWith('https:'),
      hostCookie: req.ownOrigin === true,
      authorizeUrl,
      embedding: (req.framing.embedders ?? []).length > 0,
      owner: req.server.user,
      ...(req.revalidateMs === undefined ? {} : { revalidateMs: req.revalidateMs }),
    },
  );
  const grants = new Grants({
    ...common,
    user: req.server.user,
    prefix: req.prefix,
    ownOrigin: req.ownOrigin === true,
  });
  return { gate: access, signIn: grantEndpoint(grants, access), service: access, home };
}

function hubAccess(req: StartRequest, hub: NonNullable<StartRequest['hub']>): AccessParts {
  const revalidateMs = req.revalidateMs ?? REVALIDATE_MS;
  const client = new HubClient(hub);
  const access = new HubAccess(
    client,
    new HubTokenChecker(client, hub.accessScopes, revalidateMs),
    {
      serverId: req.server.id,
      prefix: req.prefix,
      secureCookie: req.publicOrigin.startsWith('https:'),
      hub,
      revalidateMs,
      owner: req.server.user,
    },
  );
  return {
    gate: access,
    signIn: new HubOAuth(client, access, hub, req.prefix),
    service: null,
    home: req.publicOrigin + hubHome(hub.authorizePath),
  };
}

/** /hub/api/oauth2/authorize -> /hub/home: the page hub users start their servers from. */
function hubHome(authorizePath: string): string {
  const end = 'api/oauth2/authorize';
  return authorizePath.endsWith(end) ? `${authorizePath.slice(0, -end.length)}home` : '/';
}
