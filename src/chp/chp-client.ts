import { HubappsError } from '../errors.js';
import type { HubappsRouteData, RouteEntry, RouteTable } from './route-table.js';

export interface ChpClientOptions {
  /** CHP's REST API, e.g. http://127.0.0.1:8001 (config key chp.api_url). */
  apiUrl: string;
  /** The CONFIGPROXY_AUTH_TOKEN CHP was started with. */
  authToken: string;
  /** How messages name this CHP (default: configurable-http-proxy). */
  name?: string;
  /**
   * Per request. CHP answers on loopback in milliseconds when idle, but a host busy starting a
   * hundred servers at once slowed its answers past 3 s in a test run: a route not added
   * fails a start that was otherwise ready, so waiting longer is the cheaper mistake.
   */
  timeoutMs?: number;
}

const KINDS: ReadonlySet<string> = new Set<HubappsRouteData['kind']>([
  'server',
  'port',
  'catchall',
  'service',
]);

/**
 * RouteTable over CHP's REST API (configurable-http-proxy 5.x):
 *   GET    /api/routes          all routes: {path: {target, ...data, last_activity}}
 *   GET    /api/routes/{path}   one route, 404 when missing
 *   POST   /api/routes/{path}   body {target, ...data}; replaces an existing route
 *   DELETE /api/routes/{path}   204, or 404 when missing
 * CHP stores a route's data flat next to `target` and keys routes by their path without a
 * trailing slash.
 *
 * Ownership: CHP is shared with JupyterHub, whose routes hubapps must never change. CHP has
 * no conditional write, so add() and remove() read the table first and refuse when a route
 * exists at that path without `hubapps: true`. Doing the check here, rather than trusting
 * every caller to pass only paths from list(), keeps the promise in one place for one extra
 * loopback request. The whole table is read rather than GET /api/routes/{path}, because CHP
 * logs every 404 of the latter as a warning, and a new route is always a 404 first. The check
 * and the write are two requests; the window between them is accepted because the only
 * other writer, JupyterHub, owns other prefixes.
 */
export class ChpRouteTable implements RouteTable {
  private readonly apiUrl: string;
  private readonly authToken: string;
  private readonly timeoutMs: number;
  /** When CHP last answered any call (performance.now()). */
  private answeredAt = Number.NEGATIVE_INFINITY;
  private readonly name: string;
  /** The reachability check under way, which concurrent callers share. */
  private checking: Promise<void> | null = null;

  constructor(opts: ChpClientOptions) {
    this.name = opts.name ?? 'configurable-http-proxy';
    this.apiUrl = opts.apiUrl.replace(/\/+$/, '');
    this.authToken = opts.authToken;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
  }

  async add(path: string, target: string, data: HubappsRouteData): Promise<void> {
    const clean = cleanPath(path);
    await this.existsAndIsOurs(clean, 'replace');
    await this.request('POST', clean, [201], { ...data, hubapps: true, target });
  }

  async addIfAbsent(path: string, target: string, data: HubappsRouteData): Promise<boolean> {
    const clean = cleanPath(path);
    if ((await this.table())[clean] !== undefined) return false;
    await this.request('POST', clean, [201], { ...data, hubapps: true, target });
    return true;
  }

  async remove(path: string): Promise<void> {
    const clean = cleanPath(path);
    if (!(await this.existsAndIsOurs(clean, 'remove'))) return;
    await this.request('DELETE', clean, [204, 404]);
  }

  /**
   * Concurrent checks share one request: a burst of starts must not become a burst of calls
   * to CHP, which under load then time out and refuse starts CHP could have routed. Each
   * check that begins after the last one ended asks CHP again, so a CHP that just went away
   * is noticed at once.
   */
  async reachable(): Promise<void> {
    this.checking ??= this.check().finally(() => (this.checking = null));
    return this.checking;
  }

  /**
   * A check that times out while CHP answered other calls meanwhile (the routes of a burst
   * of starts, on a machine whose CPU those starts take) found a slow CHP, not a missing
   * one: it passes. A refused connection, or silence on every call, still fails.
   */
  private async check(): Promise<void> {
    const began = performance.now();
    try {
      // CHP lists routes inactive since a given time; none has been inactive since the epoch,
      // so the answer is an empty object however many routes there are.
      const res = await this.request(
        'GET',
        '',
        [200],
        undefined,
        '?inactive_since=1970-01-01T00:00:00.000Z',
      );
      await readJson(res, this.name, this.apiUrl);
    } catch (err) {
      if (timedOut(err) && this.answeredAt > began) return;
      throw err;
    }
  }

  async list(): Promise<Map<string, RouteEntry>> {
    const ours = new Map<string, RouteEntry>();
    for (const [path, raw] of Object.entries(await this.table())) {
      const entry = toEntry(path, raw);
      if (entry) ours.set(path, entry);
    }
    return ours;
  }

  /** CHP's whole routing table: {path: {target, ...data, last_activity}}. */
  private async table(): Promise<Record<string, unknown>> {
    const res = await this.request('GET', '', [200]);
    const all = await readJson(res, this.name, this.apiUrl);
    if (typeof all !== 'object' || all === null) {
      throw new HubappsError(
        'chp_error',
        'configurable-http-proxy answered GET /api/routes with something other than a JSON object',
      );
    }
    return all as Record<string, unknown>;
  }

  /** Is there a route at `path`? Throws when there is one that hubapps did not add, naming whose it looks like. */
  private async existsAndIsOurs(path: string, verb: string): Promise<boolean> {
    const route = (await this.table())[path];
    if (route === undefined) return false;
    if ((route as { hubapps?: unknown } | null)?.hubapps !== true) {
      throw new HubappsError(
        'chp_route_foreign',
        `hubapps will not ${verb} the route ${path} in ${this.name}: ${foreignOwner(path, route)}`,
        { expose: false },
      );
    }
    return true;
  }

  private async request(
    method: string,
    path: string,
    ok: number[],
    body?: object,
    query = '',
  ): Promise<Response> {
    const url = `${this.apiUrl}/api/routes${path.split('/').map(encodeURIComponent).join('/')}${query}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: {
          Authorization: `token ${this.authToken}`,
          ...(body ? { 'Content-Type': 'application/json' } : {}),
        },
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw unreachable(this.name, this.apiUrl, err);
    }
    this.answeredAt = performance.now();
    if (ok.includes(res.status)) return res;
    const text = await res.text().catch(() => '');
    if (res.status === 403) {
      throw new HubappsError(
        'chp_auth',
        `${this.name} refused the token: ${this.name === 'the apps CHP' ? 'apps_chp' : 'chp'}.auth_token must equal its CONFIGPROXY_AUTH_TOKEN`,
      );
    }
    throw new HubappsError(
      'chp_error',
      `configurable-http-proxy answered ${method} /api/routes${path} with ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`,
    );
  }
}

/**
 * Whose a route without hubapps' tag is, from its data, and what to change: JupyterHub tags
 * its routes, CHP's --default-target is an untagged "/", anything else is another program.
 */
function foreignOwner(path: string, route: unknown): string {
  const data = (typeof route === 'object' && route !== null ? route : {}) as Record<
    string,
    unknown
  >;
  if (data.jupyterhub === true) {
    return 'JupyterHub owns it (its data has "jupyterhub": true); choose apps_prefix and service_prefix so they do not collide with the hub\'s routes';
  }
  const keys = Object.keys(data).filter((k) => k !== 'target' && k !== 'last_activity');
  if (path === '/' && keys.length === 0) {
    return `it is the proxy's own default route (its --default-target, to ${String(data.target)}); point --default-target at the hubapps service or drop it`;
  }
  return `another program added it (its data: ${keys.length ? keys.join(', ') : 'none'}, target ${String(data.target)}); remove it or move hubapps' prefixes away from it`;
}

/** CHP's own normalisation (lib/trie.js trimPrefix): leading slash, no trailing slash. */
function cleanPath(path: string): string {
  const withSlash = path.startsWith('/') ? path : `/${path}`;
  return withSlash.replace(/\/+$/, '') || '/';
}

/** An unreachable error whose cause is the call's own timeout (not a refusal or a reset). */
function timedOut(err: unknown): boolean {
  const cause = (err as { cause?: unknown }).cause;
  return (
    err instanceof HubappsError &&
    err.code === 'chp_unreachable' &&
    cause instanceof DOMException &&
    cause.name === 'TimeoutError'
  );
}

function unreachable(name: string, apiUrl: string, err: unknown): HubappsError {
  return new HubappsError(
    'chp_unreachable',
    `${name} is not reachable at ${apiUrl}: is it running? (${name === 'the apps CHP' ? 'apps_chp.api_url' : 'chp.api_url'})`,
    { cause: err },
  );
}

async function readJson(res: Response, name: string, apiUrl: string): Promise<unknown> {
  try {
    return await res.json();
  } catch (err) {
    if (err instanceof DOMException && err.name === 'TimeoutError')
      throw unreachable(name, apiUrl, err);
    throw new HubappsError('chp_error', `configurable-http-proxy sent an answer that is not JSON`, {
      cause: err,
    });
  }
}

/** Routes with `hubapps: true` and a known kind; CHP's own fields (last_activity) are dropped. */
function toEntry(path: string, raw: unknown): RouteEntry | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const r = raw as Record<string, unknown>;
  if (
    r.hubapps !== true ||
    typeof r.target !== 'string' ||
    typeof r.kind !== 'string' ||
    !KINDS.has(r.kind)
  ) {
    return undefined;
  }
  const data: HubappsRouteData = { hubapps: true, kind: r.kind as HubappsRouteData['kind'] };
  if (typeof r.user === 'string') data.user = r.user;
  if (typeof r.server === 'string') data.server = r.server;
  if (typeof r.serverId === 'number') data.serverId = r.serverId;
  if (typeof r.port === 'number') data.port = r.port;
  if (r.portKind === 'server' || r.portKind === 'host') data.portKind = r.portKind;
  return { path, target: r.target, data };
}
