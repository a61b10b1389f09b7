/**
 * Which environment variables an admin may give every app (hubapps.yaml `environment` and
 * `env_keep`, and an app file's `environment`). The service checks them when it loads the
 * config; the proxy checks the start request again, since what it receives crossed sudo.
 */

/** A name as shells and exec read it: letters, digits and _, not starting with a digit. */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/** The variables hubapps sets itself (docs/apps.md), after every configured one: nothing replaces them. */
export const SET_BY_HUBAPPS: ReadonlySet<string> = new Set([
  'JUPYTERHUB_USER',
  'JUPYTERHUB_SERVER_NAME',
  'JUPYTERHUB_SERVICE_PREFIX',
  'JUPYTERHUB_SERVICE_URL',
  'JUPYTERHUB_BASE_URL',
  'JUPYTERHUB_API_URL',
  'JUPYTERHUB_API_TOKEN',
  'JUPYTERHUB_ACTIVITY_URL',
  'JUPYTERHUB_GROUP',
  'HUBAPPS_SERVER_ID',
  'HUBAPPS_PROXY_PID',
]);

/** Host-wide settings stay clear of the whole families, so a later variable of hubapps' cannot meet one. */
const RESERVED_PREFIXES = ['JUPYTERHUB_', 'HUBAPPS_'];

/** The account's identity: always the user's own, from the password database. */
const IDENTITY = new Set(['HOME', 'USER', 'LOGNAME']);

/**
 * What the service's own environment must not hand on to users' apps: the dynamic loader's
 * controls, the service's credentials and systemd's sockets and paths, and a PATH meant for
 * the service (an app gets /usr/local/bin:/usr/bin:/bin, or `environment: {PATH: ...}`).
 */
const NOT_KEPT_PREFIXES = ['LD_', 'CONFIGPROXY_', 'NODE_'];
const NOT_KEPT = new Set([
  'PATH',
  'SHELL',
  'CREDENTIALS_DIRECTORY',
  'NOTIFY_SOCKET',
  'LISTEN_FDS',
  'LISTEN_PID',
  'LISTEN_FDNAMES',
  'INVOCATION_ID',
  'JOURNAL_STREAM',
  'RUNTIME_DIRECTORY',
  'STATE_DIRECTORY',
  'LOGS_DIRECTORY',
  'CONFIGURATION_DIRECTORY',
  'SUDO_USER',
  'SUDO_UID',
  'SUDO_GID',
  'SUDO_COMMAND',
]);

/** Why `name` may not be set for every app by `environment`, or null when it may. */
export function refusedEnvName(name: string): string | null {
  if (!ENV_NAME.test(name))
    return 'names are letters, digits and _ (not starting with a digit), at most 128 characters';
  if (RESERVED_PREFIXES.some((p) => name.startsWith(p)))
    return `${name} is set by hubapps itself (JUPYTERHUB_* and HUBAPPS_* cannot be configured)`;
  if (IDENTITY.has(name)) return `${name} is always the user's own`;
  return null;
}

/** Why `name` may not be copied from the service's environment by `env_keep`, or null when it may. */
export function refusedKeptName(name: string): string | null {
  const refused = refusedEnvName(name);
  if (refused) return refused;
  if (NOT_KEPT.has(name) || NOT_KEPT_PREFIXES.some((p) => name.startsWith(p)))
    return `${name} belongs to the service, not to users' apps; set a value with environment instead`;
  return null;
}

/** Why an app file's `environment` may not set `name`, or null when it may. */
export function refusedAppEnvName(name: string): string | null {
  return SET_BY_HUBAPPS.has(name)
    ? `${name} is set by hubapps itself (docs/apps.md, "The app's environment")`
    : null;
}

/** Why `value` cannot be an environment value, or null: exec cannot pass a NUL byte. */
export function refusedEnvValue(value: string): string | null {
  if (value.includes('\0')) return 'values cannot contain a NUL byte';
  if (value.length > 4096) return 'values are at most 4096 characters';
  return null;
}
