/**
 * StartRequest.hub, checked as every other field of the start request is, together with
 * what a hub server must not have: a socket (CHP and the hub's wait_up reach it on
 * loopback TCP), users' own ports, its own origin, a Slurm node, or an app port left to
 * the kernel (every app port of a hub server is one the service guards).
 */
import type { HubBinding, StartRequest } from '../../protocol/wire.js';
import { array, bad, matching, object, str } from '../request-checks.js';

const PATH = /^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]{0,1000}$/;
const CLIENT_ID = /^[A-Za-z0-9._~@%+-]{1,255}$/;
const SCOPE = /^[\x21-\x7e]{1,512}$/;

export function hubBinding(v: unknown, prefix: string): HubBinding {
  const h = object(v, 'hub');
  const accessScopes = array(h.accessScopes, 'hub.accessScopes').map((s, i) =>
    matching(s, `hub.accessScopes[${i}]`, SCOPE, false),
  );
  if (accessScopes.length === 0 || accessScopes.length > 100)
    throw bad("'hub.accessScopes' must hold between 1 and 100 scopes");
  const callbackPath = matching(h.callbackPath, 'hub.callbackPath', PATH);
  if (!callbackPath.startsWith(prefix) || callbackPath === prefix)
    throw bad(
      `'hub.callbackPath' must be below the prefix ${prefix}, e.g. ${prefix}oauth_callback`,
    );
  return {
    apiUrl: apiUrl(h.apiUrl),
    authorizePath: matching(h.authorizePath, 'hub.authorizePath', PATH),
    apiToken: matching(h.apiToken, 'hub.apiToken', /^[\x21-\x7e]{16,512}$/, false),
    clientId: matching(h.clientId, 'hub.clientId', CLIENT_ID),
    callbackPath,
    accessScopes,
    user: matching(h.user, 'hub.user', /^[^\x00-\x1f\x7f/]{1,255}$/, false),
    server: matching(h.server, 'hub.server', /^[^\x00-\x1f\x7f/]{0,255}$/, false),
  };
}

/** The fields a hub server must not combine with `hub`; a refusal names the field. */
export function checkHubServer(req: StartRequest): void {
  const refused = (
    [
      ['socket', req.socket !== undefined],
      ['ports', req.ports !== undefined],
      ['ownOrigin', req.ownOrigin === true],
      ['node', req.node !== undefined],
    ] as const
  ).find(([, set]) => set);
  if (refused) throw bad(`'${refused[0]}' cannot be combined with 'hub'`);
  if (req.appPort === undefined)
    throw bad("'appPort' is required with 'hub': the app's port is one the service guards");
}

function apiUrl(v: unknown): string {
  const s = str(v, 'hub.apiUrl');
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    throw bad(`'hub.apiUrl' must be a URL such as http://127.0.0.1:8081/hub/api/`);
  }
  if (
    (url.protocol !== 'http:' && url.protocol !== 'https:') ||
    url.search ||
    url.hash ||
    url.username ||
    url.password
  )
    throw bad(
      `'hub.apiUrl' must be an http(s) URL without query or credentials, such as http://127.0.0.1:8081/hub/api/`,
    );
  // JupyterHub's own Hub.api_url has no trailing slash; the endpoints are resolved below it.
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url.href;
}
