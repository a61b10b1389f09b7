/**
 * A hub server's proxy as the service starts it (StartRequest.hub: loopback TCP, a guarded
 * appPort, the hub's prefix), in front of a fake JupyterHub (fake-hub.ts), and a browser
 * with a cookie jar that follows redirects the way CHP would route them: /hub/ to the hub,
 * everything else to the proxy.
 */
import { randomBytes } from 'node:crypto';
import { freePort } from '../../helpers/index.js';
import { proxyArgs } from '../../../src/proxy/command-line.js';
import type { HubBinding } from '../../../src/protocol/wire.js';
import {
  Catalog,
  fetchRaw,
  makeSpec,
  runProxy,
  startFakeService,
  type Answer,
  type FakeService,
  type RunningProxy,
} from '../../unit/proxy/harness.js';
import { echoApp, refusingApp } from './apps.js';
import { accessScopesFor, startFakeHub, type FakeHub } from './fake-hub.js';

export const PUBLIC_ORIGIN = 'http://127.0.0.1';
export const PREFIX = '/user/alice/echo/';

export interface HubBed {
  catalog: Catalog;
  service: FakeService;
  hub: FakeHub;
  proxy: RunningProxy;
  /** The server's api token at the hub: its OAuth client secret. */
  apiToken: string;
}

export async function startHubBed(
  opts: { revalidateMs?: number; app?: 'echo' | 'refusing' } = {},
): Promise<HubBed> {
  const catalog = await Catalog.create();
  if (opts.app === 'refusing') refusingApp(catalog, 'echo');
  else echoApp(catalog, 'echo', { websocket: true });
  const service = await startFakeService();
  const hub = await startFakeHub();
  const apiToken = randomBytes(16).toString('hex');
  const clientId = 'jupyterhub-user-alice-echo';
  hub.register({
    clientId,
    secret: apiToken,
    redirectUri: `${PREFIX}oauth_callback`,
    server: 'alice/echo',
  });
  hub.setUser('alice', []);
  const proxy = await startHubProxy({
    catalog,
    service,
    publicOrigin: PUBLIC_ORIGIN,
    revalidateMs: opts.revalidateMs,
    hub: {
      apiUrl: hub.apiUrl,
      authorizePath: '/hub/api/oauth2/authorize',
      apiToken,
      clientId,
      callbackPath: `${PREFIX}oauth_callback`,
      accessScopes: accessScopesFor('alice/echo'),
      user: 'alice',
      server: 'echo',
    },
  });
  return { catalog, service, hub, proxy, apiToken };
}

/** The proxy of alice's server `echo` at PREFIX as the service starts it for the hub, ready. */
export async function startHubProxy(o: {
  catalog: Catalog;
  service: FakeService;
  publicOrigin: string;
  revalidateMs?: number | undefined;
  hub: HubBinding;
}): Promise<RunningProxy> {
  const base = makeSpec(
    {
      catalog: o.catalog,
      app: 'echo',
      service: o.service,
      publicOrigin: o.publicOrigin,
      ...(o.revalidateMs === undefined ? {} : { revalidateMs: o.revalidateMs }),
    },
    await freePort(),
  );
  const spec = { ...base, prefix: PREFIX, appPort: await freePort(), hub: o.hub };
  const proxy = runProxy(spec, proxyArgs(o.catalog.dir));
  await proxy.ready();
  return proxy;
}

export async function tearDownHubBed(bed: Partial<HubBed>): Promise<void> {
  await bed.proxy?.kill();
  await bed.hub?.close().catch(() => undefined);
  await bed.service?.close().catch(() => undefined);
  await bed.catalog?.remove();
}

interface Cookie {
  value: string;
  path: string;
}

/** A browser signed in at the hub as `hubUser` (the hub's login cookie), with its own cookie jar. */
export class HubBrowser {
  readonly jar = new Map<string, Cookie>();
  /** Every answer of the last go(), first to last. */
  hops: { path: string; answer: Answer }[] = [];

  private readonly ports: { hub: number; proxy: number };

  /** `at`: the fake hub's bed (the fake's login cookie is set for `hubUser`), or where /hub/ and everything else go (a real hub behind CHP). */
  constructor(at: HubBed | { hub: number; proxy: number }, hubUser: string | null = 'alice') {
    this.ports = 'catalog' in at ? { hub: at.hub.port, proxy: at.proxy.spec.port } : at;
    if (hubUser !== null && 'catalog' in at)
      this.jar.set('fakehub-user', { value: hubUser, path: '/hub/' });
  }

  /** A top-level navigation to `path`, following redirects; the last answer. */
  async go(path: string, maxHops = 6): Promise<Answer> {
    this.hops = [];
    let at = path;
    for (let i = 0; i < maxHops; i++) {
      const answer = await this.request(at);
      this.hops.push({ path: at, answer });
      const location = answer.headers.location;
      if (answer.status !== 302 || location === undefined) return answer;
      at = location.startsWith('http')
        ? new URL(location).pathname + new URL(location).search
        : location;
    }
    throw new Error(`more than ${maxHops} redirects from ${path}`);
  }

  /** One request with this browser's cookies and navigation headers; Set-Cookie lands in the jar. */
  async request(
    path: string,
    headers: Record<string, string> = {},
    method = 'GET',
    body?: string,
  ): Promise<Answer> {
    const port = path.startsWith('/hub/') ? this.ports.hub : this.ports.proxy;
    const cookie = this.cookieFor(path);
    const answer = await fetchRaw(port, path, {
      method,
      headers: {
        accept: 'text/html,application/xhtml+xml',
        'sec-fetch-mode': 'navigate',
        'sec-fetch-dest': 'document',
        'sec-fetch-site': 'same-origin',
        ...(cookie === '' ? {} : { cookie }),
        ...headers,
      },
      ...(body === undefined ? {} : { body }),
    });
    for (const line of answer.headers['set-cookie'] ?? []) this.store(line);
    return answer;
  }

  cookieFor(path: string): string {
    const bare = path.split('?')[0]!;
    return [...this.jar.entries()]
      .filter(([, c]) => bare.startsWith(c.path))
      .map(([name, c]) => `${name}=${c.value}`)
      .join('; ');
  }

  private store(line: string): void {
    const [pair, ...attrs] = line.split(';');
    const eq = pair!.indexOf('=');
    const name = pair!.slice(0, eq).trim();
    const value = pair!.slice(eq + 1).trim();
    const attr = (key: string) =>
      attrs
        .map((a) => a.trim())
        .find((a) => a.toLowerCase().startsWith(`${key}=`))
        ?.slice(key.length + 1);
    if (attr('max-age') === '0') return void this.jar.delete(name);
    this.jar.set(name, { value, path: attr('path') ?? '/' });
  }
}
