import type { Config } from './schema.js';
import { hostLabel, isHostLabel } from '../host-label.js';
import { portLabel, type PortKind } from '../port-label.js';
import { HOST_PORTS_PATH, PORTS_PATH } from '../protocol/wire.js';

/** Join URL path pieces with exactly one '/' between them. */
export function joinPath(...parts: string[]): string {
  const joined = parts.join('/').replace(/\/{2,}/g, '/');
  return joined.startsWith('/') ? joined : `/${joined}`;
}

type UrlConfig = Pick<Config, 'base_url' | 'apps_prefix' | 'service_prefix' | 'public_url'> &
  Partial<Pick<Config, 'apps_domain' | 'apps_scheme' | 'apps_port' | 'extra_origins'>>;

/**
 * Every URL the service hands out, derived from the config in one place, for both layouts:
 * - path layout (apps_domain unset): servers live at {public_url}{apps_prefix}USER/SERVER/,
 *   routed by JupyterHub's CHP;
 * - host layout (apps_domain set): servers live at {apps_scheme}://SERVER--USER.{apps_domain}/,
 *   routed by the apps CHP by host name; the old path answers with a redirect there.
 */
export class Urls {
  readonly publicOrigin: string;
  /** The origins of this site's own pages, lower case: public_url's and extra_origins. */
  readonly siteOrigins: ReadonlySet<string>;
  /** True when each server has its own origin. */
  readonly hostLayout: boolean;
  private readonly appsSuffix: string;
  private readonly appsPort: string;
  private readonly appsScheme: string;

  constructor(
    private readonly config: UrlConfig,
    /** Loopback origin of the service, e.g. http://127.0.0.1:10101 (known once it listens). */
    readonly serviceOrigin: string,
  ) {
    this.publicOrigin = new URL(config.public_url).origin;
    this.siteOrigins = new Set(
      [this.publicOrigin, ...(config.extra_origins ?? [])].map((o) => o.toLowerCase()),
    );
    this.hostLayout = config.apps_domain !== undefined;
    this.appsScheme = config.apps_scheme ?? 'https';
    this.appsSuffix = `.${config.apps_domain ?? ''}`;
    const defaultPort = this.appsScheme === 'https' ? 443 : 80;
    this.appsPort =
      config.apps_port === undefined || config.apps_port === defaultPort
        ? ''
        : `:${config.apps_port}`;
  }

  /** '/apps/alice/rstudio/' (with base_url): the server's address in the path layout. */
  pathLayoutPrefix(user: string, name: string): string {
    return joinPath(this.config.base_url, this.config.apps_prefix, user, name, '/');
  }

  /** The path the server's proxy serves below: '/' on its own host, else its path-layout prefix. */
  serverPrefix(user: string, name: string): string {
    return this.hostLayout ? '/' : this.pathLayoutPrefix(user, name);
  }

  /** 'lab--alice.apps.example.org' (host layout only). */
  serverHost(user: string, name: string): string {
    return `${hostLabel(user, name)}${this.appsSuffix}`;
  }

  /** The browser origin of the server's pages. */
  serverOrigin(user: string, name: string): string {
    return this.hostLayout
      ? `${this.appsScheme}://${this.serverHost(user, name)}${this.appsPort}`
      : this.publicOrigin;
  }

  /**
   * CHP's form of the server's route: '/HOST' in the apps CHP (host routing), or the path
   * prefix without its trailing slash in JupyterHub's CHP.
   */
  serverRoute(user: string, name: string): string {
    return this.hostLayout
      ? `/${this.serverHost(user, name)}`
      : this.pathLayoutPrefix(user, name).slice(0, -1);
  }

  /** A user's own port's host, '8787--p--lab--alice.apps.example.org' (host layout only). */
  portHost(user: string, name: string, port: number, kind: PortKind): string {
    return `${portLabel(user, name, port, kind)}${this.appsSuffix}`;
  }

  /** The port host's origin, with the apps domain's scheme and port (host layout only). */
  portOrigin(user: string, name: string, port: number, kind: PortKind): string {
    return `${this.appsScheme}://${this.portHost(user, name, port, kind)}${this.appsPort}`;
  }

  /** The apps CHP's route of a port host (host routing). */
  portRoute(user: string, name: string, port: number, kind: PortKind): string {
    return `/${this.portHost(user, name, port, kind)}`;
  }

  /**
   * Where a browser opens a user's own port: its own host under per-server origins, else
   * the path below the server's prefix (absolute in the host layout, a path in the path layout).
   */
  portUrl(user: string, name: string, port: number, kind: PortKind): string {
    if (this.hostLayout) return `${this.portOrigin(user, name, port, kind)}/`;
    const below = kind === 'server' ? PORTS_PATH : HOST_PORTS_PATH;
    return `${this.serverPrefix(user, name)}${below}${port}/`;
  }

  /** The catch-all route in JupyterHub's CHP: stopped servers in the path layout, redirects in the host layout. */
  catchallRoute(): string {
    return joinPath(this.config.base_url, this.config.apps_prefix).replace(/\/$/, '');
  }

  /** '/services/hubapps/' (with base_url). */
  servicePrefix(): string {
    return joinPath(this.config.base_url, this.config.service_prefix, '/');
  }

  serviceRoute(): string {
    return this.servicePrefix().slice(0, -1);
  }

  /** Where proxies call the service (loopback, never through CHP). */
  serviceUrlInternal(): string {
    return `${this.serviceOrigin}${this.servicePrefix()}`;
  }

  publicServerUrl(user: string, name: string): string {
    return `${this.serverOrigin(user, name)}${this.serverPrefix(user, name)}`;
  }

  /** What the launcher links to: a path on its own origin, or the server's own origin. */
  serverLink(user: string, name: string): string {
    return this.hostLayout ? this.publicServerUrl(user, name) : this.serverPrefix(user, name);
  }

  launcherUrl(): string {
    return `${this.publicOrigin}${this.servicePrefix()}`;
  }

  /**
   * The label of a Host header on the apps domain ('lab--alice' for
   * 'lab--alice.apps.example.org:8443'), or undefined for any other host.
   */
  appsLabel(hostHeader: string | undefined): string | undefined {
    if (!this.hostLayout || !hostHeader) return undefined;
    const host = hostHeader.replace(/:\d+$/, '').toLowerCase();
    if (!host.endsWith(this.appsSuffix)) return undefined;
    const label = host.slice(0, -this.appsSuffix.length);
    return isHostLabel(label) ? label : undefined;
  }

  /** Is this Host header (or an Origin's host) on the apps domain at all, label or not? */
  onAppsDomain(hostHeader: string | undefined): boolean {
    if (!this.hostLayout || !hostHeader) return false;
    const host = hostHeader.replace(/:\d+$/, '').toLowerCase();
    return host === this.config.apps_domain || host.endsWith(this.appsSuffix);
  }

  /** Is `origin` (an Origin header) a page on the apps domain? */
  isAppsOrigin(origin: string | undefined): boolean {
    if (!origin || origin === 'null') return false;
    try {
      return this.onAppsDomain(new URL(origin).host);
    } catch {
      return false;
    }
  }
}
