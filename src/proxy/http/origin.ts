/**
 * The WebSocket Origin check. Browsers send Origin on every WebSocket handshake, and the
 * page of any site could open one to this server with the user's cookie: only pages
 * from the public origin (or a configured extra origin) may. Clients without an Origin
 * (not browsers) are judged by their credential alone.
 */
export class OriginPolicy {
  /** The public origin and the configured extra ones, lower case. */
  readonly allowed: ReadonlySet<string>;

  constructor(publicOrigin: string, allowedOrigins: readonly string[]) {
    this.allowed = new Set([publicOrigin, ...allowedOrigins].map((o) => o.toLowerCase()));
  }

  accepts(origin: string | undefined): boolean {
    return origin === undefined || this.allowed.has(origin.toLowerCase());
  }
}
