import { HubappsError } from '../errors.js';
import type { StartInput } from '../lifecycle/start.js';
import type { HubStart } from '../lifecycle/hub-start.js';
import { printable } from '../names.js';
import { objectBody, parseStartBody } from './body.js';

const START_FIELDS = ['app', 'options', 'form', 'hub', 'start_timeout'] as const;
const HUB_FIELDS = [
  'server',
  'prefix',
  'api_url',
  'authorize_path',
  'api_token',
  'client_id',
  'callback_path',
  'access_scopes',
] as const;

/** A URL path the hub gives: absolute, no empty, `.` or `..` segment, no query or fragment. */
const HUB_PATH = /^(\/[A-Za-z0-9._~%!$&'()*+,;=:@-]+)*\/?$/;

/**
 * HubappsSpawner's start, `{app, options, form, hub: {...}, start_timeout}` (docs/api.md,
 * "Spawner API"): what the hub gave the spawner for the server, checked so the proxy gets
 * only values a hub could have sent. `hubUser` is the hub's name from the route.
 */
export function parseHubStartBody(body: unknown, hubUser: string): StartInput & { hub: HubStart } {
  const fields = objectBody(body, START_FIELDS);
  const { hub, start_timeout: timeout, ...start } = fields;
  const input = parseStartBody(start);
  return { ...input, hub: { ...parseHub(hub, hubUser), startTimeoutS: startTimeout(timeout) } };
}

function parseHub(body: unknown, hubUser: string): Omit<HubStart, 'startTimeoutS'> {
  if (body === undefined)
    throw new HubappsError(
      'invalid_body',
      'field "hub" (what the hub gave the spawner) is required',
    );
  const h = objectBody(body, HUB_FIELDS);
  const text = (key: (typeof HUB_FIELDS)[number], max = 1024): string => {
    const v = h[key];
    if (typeof v !== 'string' || v.length > max || /[\0-\x1f\x7f]/.test(v))
      throw new HubappsError(
        'invalid_body',
        `field "hub.${key}" must be a string of at most ${max} printable characters`,
      );
    return v;
  };
  const path = (key: (typeof HUB_FIELDS)[number]): string => {
    const v = text(key);
    if (
      !v.startsWith('/') ||
      !HUB_PATH.test(v) ||
      v.split('/').some((s) => s === '.' || s === '..')
    )
      throw new HubappsError(
        'invalid_body',
        `field "hub.${key}" must be an absolute URL path, got '${printable(v)}'`,
      );
    return v;
  };
  const server = text('server', 255);
  const prefix = path('prefix');
  if (!prefix.endsWith('/'))
    throw new HubappsError('invalid_body', 'field "hub.prefix" must end in "/"');
  const callbackPath = path('callback_path');
  if (callbackPath !== `${prefix}oauth_callback`)
    throw new HubappsError(
      'invalid_body',
      `field "hub.callback_path" must be ${prefix}oauth_callback (below hub.prefix)`,
    );
  const apiToken = text('api_token', 256);
  const clientId = text('client_id', 255);
  if (apiToken === '' || clientId === '')
    throw new HubappsError(
      'invalid_body',
      'fields "hub.api_token" and "hub.client_id" must not be empty',
    );
  const scopes = h.access_scopes;
  if (
    !Array.isArray(scopes) ||
    scopes.length > 64 ||
    scopes.some((s) => typeof s !== 'string' || s === '' || s.length > 255)
  )
    throw new HubappsError(
      'invalid_body',
      'field "hub.access_scopes" must be a list of scope names',
    );
  return {
    binding: {
      apiUrl: hubApiUrl(text('api_url')),
      authorizePath: path('authorize_path'),
      apiToken,
      clientId,
      callbackPath,
      accessScopes: scopes as string[],
      user: hubUser,
      server,
    },
    prefix,
  };
}

function hubApiUrl(v: string): string {
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    throw new HubappsError(
      'invalid_body',
      `field "hub.api_url" must be a URL, got '${printable(v)}'`,
    );
  }
  if (
    (url.protocol !== 'http:' && url.protocol !== 'https:') ||
    !url.pathname.endsWith('/') ||
    url.search ||
    url.hash ||
    url.username ||
    url.password
  )
    throw new HubappsError(
      'invalid_body',
      'field "hub.api_url" must be an http(s) URL ending in "/", e.g. http://127.0.0.1:8081/hub/api/',
    );
  return url.href;
}

function startTimeout(v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v > 86_400)
    throw new HubappsError(
      'invalid_body',
      'field "start_timeout" must be a number of seconds above 0 (the hub\'s Spawner.start_timeout)',
    );
  return v;
}

/** The route's hub user name: what the hub's URL gives, decoded by the router; the hub's own names are up to 255 characters. */
export function checkHubUser(name: string): string {
  if (name === '' || name.length > 255 || /[\0-\x1f\x7f/]/.test(name))
    throw new HubappsError('invalid_name', `'${printable(name)}' is not a JupyterHub user name`);
  return name;
}
