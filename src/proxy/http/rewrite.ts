/**
 * Response rewrites for apps that run at their own root (strip_prefix: true): such an
 * app redirects to '/login' and sets cookies with 'Path=/', which would leave the
 * server's prefix. Both are moved back under the prefix. Values already under the
 * prefix (apps that honour X-Forwarded-Prefix) are left alone.
 */

import { withOnePath } from './cookie-scope.js';

export class PrefixRewriter {
  /** The prefix without its trailing slash, e.g. /apps/alice/rstudio */
  private readonly base: string;

  /**
   * @param prefix e.g. /apps/alice/rstudio/
   * @param ownHosts hosts (host:port) that mean "this app" in an absolute Location
   */
  constructor(
    private readonly prefix: string,
    private readonly ownHosts: ReadonlySet<string>,
  ) {
    this.base = prefix.slice(0, -1);
  }

  /** Location as the browser should see it; `requestHost` is the Host the client used. */
  location(value: string, requestHost: string | undefined): string {
    if (value.startsWith('/') && !value.startsWith('//')) return this.underPrefix(value);
    if (!/^(https?:)?\/\//i.test(value)) return value;
    let url: URL;
    try {
      url = new URL(value, 'http://placeholder.invalid');
    } catch {
      return value;
    }
    if (!this.ownHosts.has(url.host) && url.host !== requestHost) return value;
    // Origin-relative, so the browser stays on the scheme and host it used.
    return this.underPrefix(url.pathname + url.search + url.hash);
  }

  /** One Set-Cookie header value with exactly one Path, under the prefix; a path browsers would ignore (not absolute) becomes the prefix. */
  setCookie(value: string): string {
    return withOnePath(value, (path) =>
      path.startsWith('/') ? this.underPrefix(path) : this.prefix,
    );
  }

  private underPrefix(path: string): string {
    if (
      path.startsWith(this.prefix) ||
      path === this.base ||
      path.startsWith(`${this.base}?`) ||
      path.startsWith(`${this.base}#`)
    )
      return path;
    return this.base + path;
  }
}
