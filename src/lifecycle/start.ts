import crypto from 'node:crypto';
import { HubappsError } from '../errors.js';
import { runsOnSlurm } from '../catalog/slurm.js';
import { usesPort } from '../catalog/placeholders.js';
import type { CatalogApp } from '../catalog/types.js';
import { admitResources } from './admit-resources.js';
import { checkFormValues } from '../catalog/form-values.js';
import { settingsFor } from '../limits/group-settings.js';
import { printable, type ServerName, type UserName } from '../names.js';
import {
  PROTOCOL_VERSION,
  type HubBinding,
  type PortPolicy,
  type StartRequest,
} from '../protocol/wire.js';
import { portPolicy } from '../catalog/port-policy.js';
import { hostLabel } from '../host-label.js';
import { logFileFor } from '../store/server-logs.js';
import { pickPort } from '../net/ports.js';
import { hostDirs } from '../launchers/host-dirs.js';
import type { ServerRow } from '../store/servers.js';
import type { ServerResources } from '../limits/resources.js';
import type { LifecycleDeps } from './deps.js';
import { hostEnvironment } from './host-environment.js';
import { hashSecret, newSecret } from '../secret-hash.js';
import { hubAddress, type HubStart, type StartAddress } from './hub-start.js';

export interface StartInput {
  app: string;
  options: Record<string, unknown>;
  /** Launch form values by field name; missing fields take their defaults. */
  form?: Record<string, unknown>;
  /** Set when JupyterHub starts the server through HubappsSpawner (api/hub/). */
  hub?: HubStart;
}

export interface Actor {
  name: string;
  admin: boolean;
  /** JupyterHub's HubappsSpawner: acts for any allowed user, on servers the hub started only. */
  spawner?: boolean;
}

/** Whether `actor` may act on `user`'s server, hub-started (`hub`) or not. */
export function mayActOn(actor: Actor, user: string, hub: boolean): boolean {
  if (actor.spawner) return hub;
  return actor.admin || actor.name === user;
}

/**
 * Everything that can refuse a start, checked before anything is written or run (the
 * names were checked where they came in: their types say so): the user (NSS), the app and who may use it, the options, and CHP's
 * reachability (failing fast beats a server that starts but can never be routed).
 */
export async function admitStart(
  deps: LifecycleDeps,
  actor: Actor,
  user: UserName,
  name: ServerName,
  input: StartInput,
) {
  if (!mayActOn(actor, user, input.hub !== undefined) || (input.hub && !actor.spawner))
    throw new HubappsError('not_owner', `${actor.name} may not start servers for ${user}`);
  const account = await deps.users.check(user);
  const app = deps.catalog().get(input.app);
  if (!app)
    throw new HubappsError(
      'unknown_app',
      `no app '${printable(input.app)}' in the catalog; GET ${deps.urls.servicePrefix()}api/apps lists them`,
    );
  // The hub routes to 127.0.0.1: a job on another node has no address it could use.
  if (input.hub && runsOnSlurm(deps.config.slurm.apps, app))
    throw new HubappsError(
      'app_not_allowed',
      `app '${app.name}' runs as a Slurm job, which JupyterHub cannot route to: start it from the hubapps launcher`,
    );
  if (!deps.users.appAllowed(account, app)) {
    throw new HubappsError(
      'app_not_allowed',
      `${user} may not use app '${app.name}': it is limited to groups ${app.allowed_groups.join(', ')}`,
    );
  }
  const settings = settingsFor(deps.config, account.groups);
  const resources = admitResources(deps, user, app, input.options, settings.server_limits);
  const form = checkFormValues(app, input.form ?? {}, {
    groups: account.groups,
    home: account.home,
  });
  // The hub routes its servers itself: neither a host name nor CHP is needed here.
  if (!input.hub) {
    if (deps.urls.hostLayout) checkLabelFree(deps, user, name);
    await requireChp(deps);
  }
  return { account, app, settings, resources, form };
}

/**
 * Two servers must never share a host name. Labels of different (user, server) pairs differ
 * by construction except for a hashed label meeting another on 80 bits of SHA-256: this
 * check turns even that into a refusal instead of a shared origin.
 */
function checkLabelFree(deps: LifecycleDeps, user: string, name: string): void {
  const label = hostLabel(user, name);
  const clash = deps.store
    .active()
    .find((r) => (r.user !== user || r.name !== name) && hostLabel(r.user, r.name) === label);
  if (clash) {
    throw new HubappsError(
      'host_label_taken',
      `the host name ${deps.urls.serverHost(user, name)} is held by another active server; choose another server name`,
    );
  }
}

/** CHP's own error names its loopback API and stays in the log; the caller learns what is wrong and what to do. */
async function requireChp(deps: LifecycleDeps): Promise<void> {
  try {
    await deps.serverRoutes.reachable();
  } catch (err) {
    throw new HubappsError(
      'chp_unavailable',
      'cannot start servers right now: configurable-http-proxy, which routes them, is not available; try again shortly or tell your admin',
      { cause: err, expose: true },
    );
  }
}

/**
 * Insert (or revive) the pending row with a fresh secret and, for an app that listens on a
 * loopback port, a port no live server holds. An app on a unix socket gets none: holding
 * ports cannot stop it from starting.
 */
export async function claimRow(
  deps: LifecycleDeps,
  actor: Actor,
  user: string,
  name: string,
  input: StartInput,
  app: CatalogApp,
  serversPerUser: number,
): Promise<ServerRow> {
  const { servers_per_user, servers_total } = deps.config.limits;
  const quotas = {
    perUser: serversPerUser,
    perUserKey:
      serversPerUser === servers_per_user
        ? 'limits.servers_per_user'
        : `group_settings of ${user}'s groups`,
    total: servers_total,
    perApp: app.max_servers,
  };
  const needsPort = usesPort(app) || runsOnSlurm(deps.config.slurm.apps, app);
  const logFile = logFileFor(deps.config.log_dir, user, name);
  for (let attempt = 0; ; attempt++) {
    const used = deps.store.usedPorts();
    // A hub server's proxy listens on TCP where the hub routes to it, its app on a port of its own.
    const port = needsPort || input.hub ? await pickPort(deps.config.port_range, used) : null;
    if (port !== null) used.add(port);
    const hub = input.hub && {
      user: input.hub.binding.user,
      server: input.hub.binding.server,
      prefix: input.hub.prefix,
      appPort: await pickPort(deps.config.port_range, used),
    };
    try {
      return deps.store.claim(
        {
          user,
          name,
          app: input.app,
          options: input.options,
          form: input.form,
          port,
          logFile,
          secret: crypto.randomBytes(32).toString('base64url'),
          actor: actor.name,
          ...(hub ? { hub } : {}),
        },
        quotas,
      );
    } catch (err) {
      if (err instanceof HubappsError && err.code === 'port_taken' && attempt < 5) continue;
      throw err;
    }
  }
}

/**
 * A fresh API token for the server (a retry on another port gets another one): the clear
 * token goes to the proxy in the start request, the hash to the row, which must be written
 * before the proxy starts, so the app can use the token the moment it runs.
 */
export function newServerToken(): { token: string; hash: string } {
  const token = `ha_${newSecret(24)}`;
  return { token, hash: hashSecret(token) };
}

/**
 * The server's token, already held by its row: issued by the hub when
 * jupyterhub.server_tokens_from_hub is on and the hub agrees, else made here. Either way a
 * token of an earlier attempt is no longer the row's (a hub one is then deleted there).
 */
export async function issueServerToken(deps: LifecycleDeps, row: ServerRow): Promise<string> {
  const fromHub = await deps.hubTokens?.issue(row);
  if (fromHub !== undefined) return fromHub;
  const token = newServerToken();
  deps.store.update(row.id, { api_token_hash: token.hash, hub_token_id: null });
  return token.token;
}

/** How a start request is made: the readiness timeout, the admitted cgroup, the server's fresh token. */
export interface StartHow {
  readyTimeoutS: number | undefined;
  resources?: ServerResources;
  apiToken: string;
  /** A hub-started server's binding (its row holds the prefix and app port, never the token). */
  hub?: HubBinding;
}

export function startRequest(deps: LifecycleDeps, row: ServerRow, how: StartHow): StartRequest {
  const { readyTimeoutS, resources, apiToken } = how;
  return {
    op: 'start',
    version: PROTOCOL_VERSION,
    server: { id: row.id, user: row.user, name: row.name },
    app: row.app,
    options: JSON.parse(row.options) as Record<string, unknown>,
    form: JSON.parse(row.form) as Record<string, unknown>,
    ...(how.hub ? hubAddress(deps, row, how.hub) : ownAddress(deps, row)),
    runtimeDir: hostDirs(deps.config).runtime,
    secret: row.secret!,
    framing: {
      frames: deps.config.app_framing,
      popups: deps.config.app_popups,
      embedders: deps.config.app_embedding.allow,
    },
    serviceUrl: deps.urls.serviceUrlInternal(),
    stopGraceMs: deps.config.stop_grace * 1000,
    revalidateMs: deps.config.session_revalidate * 1000,
    readyTimeoutMs: (readyTimeoutS ?? deps.config.spawn_timeout) * 1000,
    logMaxBytes: deps.config.log_max_bytes,
    apiToken,
    environment: hostEnvironment(deps.config),
    group: deps.config.allowed_group,
    baseUrl: deps.config.base_url,
    ...(resources ? { resources } : {}),
  };
}

/** Where a server hubapps routes lives: its port, prefix and origins, and the users' ports it may open. */
function ownAddress(deps: LifecycleDeps, row: ServerRow): StartAddress {
  return {
    port: row.port ?? 0,
    publicOrigin: deps.urls.serverOrigin(row.user, row.name),
    ...(deps.urls.hostLayout ? { ownOrigin: true, launcherOrigin: deps.urls.publicOrigin } : {}),
    // In the host layout a server's only page origin is its own; the site's aliases are not its pages.
    allowedOrigins: deps.urls.hostLayout ? [] : deps.config.extra_origins,
    prefix: deps.urls.serverPrefix(row.user, row.name),
    ...userPorts(deps, row),
  };
}

/** The server's port policy (config user_ports narrowed by its app's `ports`); nothing when off. */
function userPorts(deps: LifecycleDeps, row: ServerRow): { ports?: PortPolicy } {
  const app = deps.catalog().get(row.app);
  if (!app) return {};
  try {
    const ports = portPolicy(deps.config.user_ports, app);
    return ports ? { ports } : {};
  } catch (err) {
    // The admin's file is wrong (check-config says so too); the start fails naming it.
    throw new HubappsError('config_invalid', (err as Error).message, { expose: true });
  }
}
