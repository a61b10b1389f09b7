/**
 * Which requests are for one of the user's own ports (docs/apps.md, "Your own ports"),
 * read from the URL in the path layout and from the Host header on per-server origins.
 * Pure functions of the request and the start request, so every form is unit-tested.
 *
 *   {prefix}ports/PORT/…                  kind server, prefix stripped (X-Forwarded-Prefix)
 *   {prefix}ports/absolute/PORT/…         kind server, full path kept
 *   {prefix}host-ports/PORT/…             kind host, stripped
 *   {prefix}host-ports/absolute/PORT/…    kind host, kept
 *   Host: PORT--p--SERVER--USER.DOMAIN    per-server origins (port-label.ts), path as sent
 */
import { parsePortLabel, portLabel, type PortKind } from '../../port-label.js';
import { HOST_PORTS_PATH, PORTS_PATH } from '../../protocol/wire.js';

export interface PortRoute {
  /** The requested port as written; may be 0 or out of range, which policy.ts refuses. */
  port: number;
  kind: PortKind;
  /**
   * The address the port lives under: `/apps/alice/lab/ports/8787/` (stripped, the app sees
   * what follows), `/apps/alice/lab/ports/absolute/8787/` (kept), or '/' on a port host.
   */
  prefix: string;
  stripPrefix: boolean;
  /** Set on a port host: its origin, e.g. https://8787--p--lab--alice.apps.example.org. */
  origin?: string;
}

/** `{prefix}ports/PORT` without its slash: where the browser should go instead. */
export interface PortRedirect {
  redirect: string;
}

const PORT_SEGMENT = /^(absolute\/)?([0-9]{1,6})(\/|\?|$)/;

/**
 * The port a path-layout URL names below `prefix`, a redirect to add the missing slash, or
 * null when the URL is not a port address (it is then the app's, as before ports existed).
 */
export function portFromPath(url: string, prefix: string): PortRoute | PortRedirect | null {
  if (!url.startsWith(prefix)) return null;
  const rest = url.slice(prefix.length);
  const kind: PortKind | null = rest.startsWith(PORTS_PATH)
    ? 'server'
    : rest.startsWith(HOST_PORTS_PATH)
      ? 'host'
      : null;
  if (kind === null) return null;
  const head = prefix + (kind === 'server' ? PORTS_PATH : HOST_PORTS_PATH);
  const m = PORT_SEGMENT.exec(url.slice(head.length));
  if (m === null) return null;
  const absolute = m[1] !== undefined;
  const base = `${head}${absolute ? 'absolute/' : ''}${m[2]}`;
  if (m[3] !== '/') return { redirect: `${base}/${url.slice(base.length)}` };
  return { port: Number(m[2]), kind, prefix: `${base}/`, stripPrefix: !absolute };
}

/** A server on its own origin, prepared once for portFromHost. */
export interface ServerIdentity {
  owner: string;
  server: string;
  /** The server's scheme with '//', e.g. 'https://'. */
  scheme: string;
  /** '.' + the domain below the server's label, with the origin's port, e.g. '.apps.example.org' or '.apps.localhost:8042'. */
  suffix: string;
}

/** The identity of the server whose own origin is `origin`, e.g. https://lab--alice.apps.example.org. */
export function serverIdentity(owner: string, server: string, origin: string): ServerIdentity {
  const own = new URL(origin);
  const domain = own.hostname.slice(own.hostname.indexOf('.') + 1);
  return {
    owner,
    server,
    scheme: `${own.protocol}//`,
    suffix: `.${domain}${own.port === '' ? '' : `:${own.port}`}`,
  };
}

/**
 * The port a Host header names on per-server origins: its first label is a port label that
 * is exactly this server's label for that port and kind, and the rest is the server's own
 * domain and port. Anything else (another server's port, a look-alike label, another
 * domain) is null: not ours, and no hint is given about which part was wrong.
 */
export function portFromHost(host: string | undefined, me: ServerIdentity): PortRoute | null {
  if (host === undefined) return null;
  const lower = host.toLowerCase();
  if (!lower.endsWith(me.suffix)) return null;
  const label = lower.slice(0, -me.suffix.length);
  const parsed = parsePortLabel(label);
  if (parsed === null || label !== portLabel(me.owner, me.server, parsed.port, parsed.kind))
    return null;
  return {
    port: parsed.port,
    kind: parsed.kind,
    prefix: '/',
    stripPrefix: false,
    origin: me.scheme + lower,
  };
}
