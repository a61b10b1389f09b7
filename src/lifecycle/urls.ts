import type { Config } from '../config/schema.js';

/** Join URL path pieces with exactly one '/' between them. */
export function joinPath(...parts: string[]): string {
  const joined = parts.join('/').replace(/\/{2,}/g, '/');
  return joined.startsWith('/') ? joined : `/${joined}`;
}

type UrlConfig = Pick<Config, 'base_url' | 'apps_prefix' | 'service_prefix' | 'public_url'>;

/** Every URL the service hands out, derived from the config in one place. */
export class Urls {
  readonly publicOrigin: string;

  constructor(
    private readonly config: UrlConfig,
    /** Loopback origin of the service, e.g. http://127.0.0.1:10101 (known once it listens). */
    readonly serviceOrigin: string,
  ) {
    this.publicOrigin = new URL(config.public_url).origin;
  }

  /** '/apps/alice/rstudio/' (with base_url). */
  serverPrefix(user: string, name: string): string {
    return joinPath(this.config.base_url, this.config.apps_prefix, user, name, '/');
  }

  /** CHP's form of a route path: no trailing slash. */
  serverRoute(user: string, name: string): string {
    return this.serverPrefix(user, name).slice(0, -1);
  }

  /** The catch-all route for servers that are not running. */
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
    return `${this.publicOrigin}${this.serverPrefix(user, name)}`;
  }

  launcherUrl(): string {
    return `${this.publicOrigin}${this.servicePrefix()}`;
  }
}
