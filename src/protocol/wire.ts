/**
 * The contract between the service and hubapps-proxy. The service writes one ProxyRequest
 * as JSON on the proxy's stdin (never in argv: argv is visible to every user in `ps`);
 * afterwards it talks to the proxy over HTTP on the proxy's unix socket (a Slurm job's
 * proxy: TCP), each call signed with a challenge over the per-server secret.
 */

import type { PortKind } from '../port-label.js';

export const PROTOCOL_VERSION = 1;

/** Private endpoints of the proxy, answered only to calls signed with the secret and never to requests CHP forwarded. */
export const PROXY_ENDPOINTS = {
  health: '/_hubapps/health',
  shutdown: '/_hubapps/shutdown',
  /** GET: the ports the server's processes listen on now (PortListing). */
  ports: '/_hubapps/ports',
} as const;

/** The service's loopback endpoint a proxy calls to check a user's credential (relative to serviceUrl). */
export const SERVICE_PROXY_AUTH_PATH = 'api/internal/proxy-auth';

/**
 * Per-server access grants. A browser without the proxy's cookie is sent to the service's
 * page {serviceUrl path}authorize?user=U&server=S&next=PATH (a port's own host adds
 * &port=P&port_kind=server|host, and the browser comes back to that host); the service checks its launcher
 * session and sends the browser back to {prefix}_hubapps/grant?code=C; the proxy redeems
 * the code at the service over loopback with the server secret and sets its own cookie.
 */
export const SERVICE_AUTHORIZE_PATH = 'authorize';
/** Below the server prefix: where a proxy takes the one-time code (shadows that path of the app). */
export const GRANT_PATH = '_hubapps/grant';
/** The service's loopback endpoint that redeems a code (relative to serviceUrl). */
export const SERVICE_REDEEM_GRANT_PATH = 'api/internal/redeem-grant';
/** The service's loopback endpoint that says whether a browser session is still valid (relative to serviceUrl). */
export const SERVICE_SESSION_CHECK_PATH = 'api/internal/session-check';
/**
 * Below the server prefix: the short-lived cookie that binds an access code to the browser
 * that asked for it (named with the server id, scoped to {prefix}_hubapps/).
 */
export const GRANT_NONCE_COOKIE = 'hubapps-grant-';

export interface StartRequest {
  op: 'start';
  version: number;
  server: { id: number; user: string; name: string };
  /** Name of the app in the catalog; the proxy reads the command from the root-owned catalog itself. */
  app: string;
  /** Validated resource choices (host limits or a Slurm job's), checked again by the proxy. */
  options: Record<string, unknown>;
  /** The launch form's values by field name (every field, defaults filled in), checked again by the proxy against its own catalog. */
  form?: Record<string, unknown>;
  /**
   * Without `socket`: the loopback port the proxy listens on. With it: the app's {port},
   * allocated by the service from port_range, never given to two live servers.
   */
  port: number;
  /**
   * The unix socket the proxy listens on, in the root-provisioned proxy_socket_dir: only
   * the service, CHP and the owner can connect. Absent: TCP on `port` (tests, a Slurm node).
   */
  socket?: string;
  /** The app's {port} when the proxy is on `socket` (absent: a free port the kernel picks). */
  appPort?: number;
  /**
   * The parent of the server's private runtime directory (runtime_dir: root-owned, sticky,
   * unlistable); the proxy makes a fresh 0700 directory of its own there. Absent: the
   * proxy's own XDG_RUNTIME_DIR (a Slurm node), never /tmp.
   */
  runtimeDir?: string;
  /** Per-server secret: authenticates service <-> proxy traffic in both directions. */
  secret: string;
  /** Browser-facing origin, e.g. https://hub.example.org (for redirects, cookies and the WebSocket Origin check). */
  publicOrigin: string;
  /**
   * Per-server origins: publicOrigin is this server's own origin (https://lab--alice.apps.example.org),
   * prefix is '/', the access cookie is a __Host- cookie, and cross-origin state changes are refused.
   * Absent or false: the path layout, publicOrigin shared with the launcher.
   */
  ownOrigin?: boolean;
  /** Origin of the launcher (for the authorize page and links back); publicOrigin when absent. */
  launcherOrigin?: string;
  /** Extra origins accepted on WebSocket upgrades besides publicOrigin. */
  allowedOrigins: string[];
  /** Who may frame the app's pages and open them with a usable window handle (config app_framing). */
  framing: FramingPolicy;
  /** Full path prefix of this server on the public URL, e.g. /apps/alice/rstudio/. */
  prefix: string;
  /** Loopback URL of the service including its prefix, e.g. http://127.0.0.1:10101/services/hubapps/. */
  serviceUrl: string;
  /** Milliseconds between SIGTERM and SIGKILL for the app's process group. */
  stopGraceMs: number;
  /** How long a browser's access is trusted before the service is asked again (config session_revalidate); 60 s when absent. */
  revalidateMs?: number;
  /** Default readiness timeout in ms when the app sets none. */
  readyTimeoutMs: number;
  /**
   * Set when a Slurm job runs the proxy on a compute node: it reads this request from
   * `specFile` (0600, the user's own), deletes it, listens on every interface at a port
   * of its choosing and announces host:port to the service. `port` is then unused.
   */
  node?: { specFile: string };
  /** The per-server log's budget in bytes: the proxy drops the app's output past it (log_max_bytes). */
  logMaxBytes: number;
  /**
   * Read by the service's own launcher, not by the proxy: the cgroup this server gets, as
   * admitted for its user (server_limits, the user's group_settings, the start's options).
   * Absent for a Slurm job and when cgroups are off.
   */
  resources?: { memMb: number; cpus: number; pids: number };
  /**
   * The app's JUPYTERHUB_API_TOKEN: a credential of this server alone (docs/api.md, "Server
   * tokens"), stored hashed by the service and revoked when the server ends. Only the app's
   * environment receives it: never argv, never a log line. Absent: the app gets none.
   */
  apiToken?: string;
  /** Variables for every app (config environment and env_keep, resolved); the proxy checks the names again. */
  environment?: Record<string, string>;
  /** The app's JUPYTERHUB_GROUP: the allowed-users group (config allowed_group). */
  group?: string;
  /** The app's JUPYTERHUB_BASE_URL: the site's base_url ('/' when absent). */
  baseUrl?: string;
  /** The user's own ports through this proxy (config user_ports, the app's `ports`); absent: off. */
  ports?: PortPolicy;
  /**
   * A server JupyterHub started through HubappsSpawner (docs/jupyterhub.md, "Drop-in for
   * sudospawner"). The hub owns its route (/user/NAME/SERVER/ -> http://127.0.0.1:{port}),
   * so the proxy listens on loopback TCP `port` (no `socket`) while the app keeps its
   * guarded `appPort`; `prefix` is the hub's. Browsers sign in through the hub's OAuth flow
   * for this server and tokens are checked at the hub, each against `accessScopes`; the
   * service's authorize, grants, shares and users' ports are not used.
   */
  hub?: HubBinding;
}

/** What the hub gave its spawner for one server (Spawner.get_env and friends), as the proxy needs it. */
export interface HubBinding {
  /** The hub's API as the proxy reaches it, with a trailing slash, e.g. http://127.0.0.1:8081/hub/api/. */
  apiUrl: string;
  /** The public path of the hub's authorize endpoint, e.g. /hub/api/oauth2/authorize. */
  authorizePath: string;
  /** The server's token at the hub (JUPYTERHUB_API_TOKEN), its OAuth client secret. Never logged, never stored by the service. */
  apiToken: string;
  /** JUPYTERHUB_CLIENT_ID, e.g. jupyterhub-user-alice-lab. */
  clientId: string;
  /** JUPYTERHUB_OAUTH_CALLBACK_URL: the redirect_uri the hub registered, e.g. /user/alice/lab/oauth_callback. */
  callbackPath: string;
  /** JUPYTERHUB_OAUTH_ACCESS_SCOPES: holding any one of them (or the unfiltered access:servers) lets a hub user in. */
  accessScopes: string[];
  /** The hub's names: the user and the server ('' for the default server). */
  user: string;
  server: string;
}

/**
 * Users' own ports (docs/apps.md, "Your own ports"). The proxy reaches a port of the
 * `server` kind when a process of this server (marks.ts) listens on it, of the `host` kind
 * when any process of the owner's uid does; in both cases every loopback listener on the
 * port must be the owner's. Path layout: {prefix}ports/PORT/ and {prefix}host-ports/PORT/;
 * per-server origins: the host port-label.ts names. Who may use a port is the service's
 * answer to PortAccessRequest, asked per (user, port) and cached by the proxy.
 */
export interface PortPolicy {
  /** Inclusive [first, last] ranges of ports that may be proxied (never empty when the policy is present). */
  ranges: [number, number][];
  /** Ports opened outside hubapps' servers (kind `host`) may be reached too. */
  hostPorts: boolean;
  /** Origins of other sites whose pages may call a port cross-site, token only (CORS), by port range. */
  cors: { ports: [number, number]; origins: string[] }[];
}
/** Below the server prefix (path layout only): a port inside the server, and a port elsewhere on the host. */
export const PORTS_PATH = 'ports/';
export const HOST_PORTS_PATH = 'host-ports/';

/** A port the server's processes listen on (kind `server`), from GET PROXY_ENDPOINTS.ports. */
export interface ListeningPort {
  port: number;
  /** The listening process's command name (/proc/PID/comm), e.g. "tensorboard". */
  command: string;
  pid: number;
}
export interface PortListing {
  ports: ListeningPort[];
}

/**
 * POST {serviceUrl}api/internal/port-access, signed with the secret like announce (signCall):
 * may `user` (the owner, a visitor of a shared server, an admin) use `port` of this server?
 * The service applies the policy again, the per-user cap on open forwards, the owner's
 * per-port share and admin_access, and records the forward. 200 PortAccessAnswer, or
 * {status, message} (403 refused, 409 cap reached) that the proxy shows the visitor.
 */
export const SERVICE_PORT_ACCESS_PATH = 'api/internal/port-access';
export interface PortAccessRequest {
  serverId: number;
  user: string;
  port: number;
  kind: PortKind;
}
export interface PortAccessAnswer {
  /** Seconds the proxy may reuse this answer (at most the session re-validation interval). */
  ttl: number;
}

/**
 * 'server': only the server's own pages may frame its pages; 'none': nobody may. Either
 * way the app's pages are opened in their own browsing context group (COOP
 * noopener-allow-popups) unless popups is 'allow'.
 */
export interface FramingPolicy {
  frames: 'server' | 'none';
  popups: 'isolate' | 'allow';
  /**
   * Origins of other sites whose pages may frame the server (config app_embedding.allow),
   * lower case. A browser in such a frame signs in through a popup and gets a partitioned
   * cookie (proxy/http/sign-in-page.ts, proxy/access/access-cookies.ts). Absent or empty: no other site.
   */
  embedders?: string[];
}

/** Submit `start` as a Slurm job (run by the proxy as the user on the hub host); answers SlurmSubmitted on stdout. */
export interface SlurmSubmitRequest {
  op: 'slurm-submit';
  version: number;
  start: StartRequest;
}

/** Report on (status) or cancel (cancel) the job that runs a server; answers SlurmJobStatus on stdout. */
export interface SlurmJobRequest {
  op: 'slurm-status' | 'slurm-cancel';
  version: number;
  jobId: string;
  server: { id: number; name: string };
}

export interface SlurmSubmitted {
  jobId: string;
  /** The job's output file (the user's own, in ~/.hubapps/slurm). */
  output: string;
  /** What the job asked for, for messages about its end. */
  memMb: number;
  timeMinutes: number;
}

export interface SlurmJobStatus {
  jobId: string;
  /** Slurm's job state (PENDING, RUNNING, OUT_OF_MEMORY, ...), or UNKNOWN once Slurm has forgotten the job. */
  state: string;
  /** squeue's reason (Priority, Resources, ...), or "None". */
  reason: string;
  node: string;
  /** Time left before the wall-time limit, as squeue prints it. */
  timeLeft: string;
  /** "exit:signal" once the job has ended. */
  exitCode: string;
  /** The last lines of the job's output. */
  output: string[];
}

/** POST {serviceUrl}api/internal/announce, signed with the secret (protocol/challenge.ts signCall, never the secret itself): a proxy on a compute node says where it listens. */
export interface AnnounceRequest {
  serverId: number;
  host: string;
  port: number;
  /** The Slurm job id the proxy runs in. */
  runId: string;
}
export const SERVICE_ANNOUNCE_PATH = 'api/internal/announce';

/** Last-resort stop, used when the proxy no longer answers: kill the proxy with this pid if it is ours. */
export interface StopRequest {
  op: 'stop';
  version: number;
  pid: number;
  server: { id: number };
  /** The proxy's socket file, removed once the proxy is gone (its route was removed first). */
  socket?: string;
}

/** Print the protocol version and exit; `hubapps doctor` uses it to prove sudo works. */
export interface VersionRequest {
  op: 'version';
  version: number;
}

export type ProxyRequest =
  StartRequest | StopRequest | VersionRequest | SlurmSubmitRequest | SlurmJobRequest;

export type ProxyState = 'starting' | 'ready' | 'stopping' | 'exited';

export interface ProgressMessage {
  seq: number;
  at: string;
  message: string;
}

/**
 * The longest a health call may wait for news (`wait=MS`): long enough that a watched start
 * makes a few calls a second instead of forty, short enough that a watcher notices a stop
 * or its deadline soon.
 */
export const HEALTH_MAX_WAIT_MS = 1000;

/**
 * GET /_hubapps/health[?since=SEQ][&wait=MS] with the secret. With `wait`, a proxy whose app
 * is still starting and that has no progress after SEQ answers at its next progress message
 * or state change, or after MS (at most HEALTH_MAX_WAIT_MS).
 */
export interface HealthReport {
  serverId: number;
  state: ProxyState;
  /** The proxy's own pid (sudo's child). */
  pid: number;
  appPid: number | null;
  /** Where the app listens: a loopback port or a unix socket path. */
  appTarget: { port: number } | { socket: string } | null;
  startedAt: string;
  readyAt: string | null;
  /** Time of the last real request or WebSocket frame from a client (never synthetic). */
  lastActivity: string | null;
  /** Progress messages with seq > since. */
  progress: ProgressMessage[];
  /** Set once the app has exited. */
  exit: { code: number | null; signal: string | null; reason: string } | null;
}

/** POST {serviceUrl}api/internal/proxy-auth — the proxy asks whether a credential may use this server. */
export interface ProxyAuthRequest {
  serverId: number;
  /** An API token from `Authorization: token T` / `Bearer T`. */
  token: string;
}

export interface ProxyAuthResponse {
  user: string;
  admin: boolean;
  /** Seconds the proxy may cache this answer. */
  ttl: number;
}

/** POST {serviceUrl}api/internal/redeem-grant with the secret — single use; 403 for a used, expired, forged, foreign or unbound code. */
export interface RedeemGrantRequest {
  serverId: number;
  code: string;
  /** The value of the browser's grant cookie: the code was issued for its hash. */
  binding: string;
  /**
   * Redeemed on a port's own host (per-server origins): the code must have been issued for
   * this port (authorize?…&port=P&port_kind=K), or a server's code would open its ports.
   */
  port?: { port: number; kind: PortKind };
}

export interface RedeemGrantResponse extends ProxyAuthResponse {
  /** The user is a visitor let in by a share of this server (only honoured on a server's own origin). */
  shared: boolean;
  /** Where the browser wanted to go: a path below the server prefix (the proxy checks it again). */
  next: string;
  /** Names the launcher session that granted access, for SessionCheckRequest. */
  session: string;
}

/** POST {serviceUrl}api/internal/session-check with the secret — 200 while the session may use this server, 403 once not. */
export interface SessionCheckRequest {
  serverId: number;
  session: string;
}

/** Exit codes of hubapps-proxy that the service interprets. */
export const PROXY_EXIT = {
  ok: 0,
  badRequest: 2,
  /** The port in the spec was taken: the service retries with another one. */
  portInUse: 98,
  appNotInCatalog: 3,
  wrongUser: 4,
  /** Started through sudo, the proxy refused itself: wrong account, not in the group, or an unsafe catalog. */
  refused: 5,
  /** sbatch refused the job; its message is on stderr. */
  jobRejected: 6,
} as const;
