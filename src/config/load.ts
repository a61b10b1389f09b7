import { ConfigError } from '../errors.js';
import { issuesToErrors } from './zod-errors.js';
import { combineProblems, throwProblems } from './error-list.js';
import { type Config, type ConfigInput, type ParsedConfig, configSchema } from './schema.js';
import { resolveSecret } from './secrets.js';
import { isLoopbackHost } from './web-origin.js';
import { readYamlMapping } from './yaml.js';

/** The name messages use when no file is given. */
export const DEFAULTS_FILE = '<defaults>';

/**
 * Load the service configuration: the YAML file (or only defaults when `file` is undefined),
 * with `overrides` merged on top (the demo and tests use them), validated and with its
 * secrets resolved. Throws one ConfigError listing every problem, one line each, naming the
 * file and the dotted key.
 */
export function loadConfig(
  file: string | undefined,
  overrides?: Partial<ConfigInput>,
  env: NodeJS.ProcessEnv = process.env,
): Config {
  const name = file ?? DEFAULTS_FILE;
  const fromFile = file === undefined ? {} : readYamlMapping(file, 'config file');
  const input = overrides ? deepMerge(fromFile, overrides) : fromFile;
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) {
    throw (
      combineProblems(issuesToErrors(configSchema, input, parsed.error.issues, name)) ??
      new ConfigError(name, '', parsed.error.message)
    );
  }
  const cfg = parsed.data;

  const problems: ConfigError[] = [];
  const secret = (ref: string, key: string): string => {
    try {
      return resolveSecret(ref, name, key, env);
    } catch (err) {
      problems.push(err as ConfigError);
      return '';
    }
  };
  const authToken = secret(cfg.chp.auth_token, 'chp.auth_token');
  const appsChpToken =
    cfg.apps_domain === undefined ? '' : secret(cfg.apps_chp.auth_token, 'apps_chp.auth_token');
  const adminToken =
    cfg.admin_token === undefined ? undefined : secret(cfg.admin_token, 'admin_token');
  const hubToken =
    cfg.jupyterhub.api_token === undefined
      ? undefined
      : secret(cfg.jupyterhub.api_token, 'jupyterhub.api_token');
  const spawnerToken =
    cfg.jupyterhub.spawner_token === undefined
      ? undefined
      : secret(cfg.jupyterhub.spawner_token, 'jupyterhub.spawner_token');
  if (spawnerToken && (spawnerToken === adminToken || spawnerToken === hubToken))
    problems.push(
      new ConfigError(
        name,
        'jupyterhub.spawner_token',
        `must be a secret of its own, not the same as ${spawnerToken === adminToken ? 'admin_token' : 'jupyterhub.api_token'}: each is accepted in different places`,
      ),
    );
  if (cfg.jupyterhub.api_url && !cfg.jupyterhub.api_token) {
    problems.push(
      new ConfigError(
        name,
        'jupyterhub.api_token',
        "is required when jupyterhub.api_url is set (the service's api_token from jupyterhub_config.py)",
      ),
    );
  }
  if (
    cfg.apps_domain !== undefined &&
    underDomain(new URL(cfg.public_url).hostname, cfg.apps_domain)
  ) {
    problems.push(
      new ConfigError(
        name,
        'apps_domain',
        `must not contain the host of public_url (${new URL(cfg.public_url).hostname}): the launcher and the API stay off the apps domain, or every app could script them`,
      ),
    );
  }
  problems.push(...originProblems(cfg, name));
  throwProblems(problems);

  return {
    ...cfg,
    file: name,
    chp: { ...cfg.chp, auth_token: authToken },
    apps_chp: { ...cfg.apps_chp, auth_token: appsChpToken },
    admin_token: adminToken,
    jupyterhub: { ...cfg.jupyterhub, api_token: hubToken, spawner_token: spawnerToken },
  };
}

/**
 * An extra origin is trusted as a page of the launcher's site, so it may not be a host
 * where users' apps answer; an embedding site is someone else's, so it may not be one
 * of this site's own origins (their framing is app_framing's) nor an app's.
 */
function originProblems(cfg: ParsedConfig, file: string): ConfigError[] {
  const problems: ConfigError[] = [];
  const onApps = (origin: string) =>
    cfg.apps_domain !== undefined && underDomain(new URL(origin).hostname, cfg.apps_domain);
  cfg.extra_origins.forEach((origin, i) => {
    if (onApps(origin))
      problems.push(
        new ConfigError(
          file,
          `extra_origins[${i}]`,
          `${origin} lies on apps_domain: app pages there would count as the launcher's own`,
        ),
      );
  });
  const own = new Set([new URL(cfg.public_url).origin.toLowerCase(), ...cfg.extra_origins]);
  cfg.app_embedding.allow.forEach((origin, i) => {
    const why = own.has(origin)
      ? "is one of this site's own origins (public_url, extra_origins): app_framing decides about those"
      : onApps(origin)
        ? "lies on apps_domain: one server's pages may never frame another's"
        : null;
    if (why !== null)
      problems.push(new ConfigError(file, `app_embedding.allow[${i}]`, `${origin} ${why}`));
  });
  if (cfg.app_embedding.allow.length > 0) {
    const why = embeddingProblem(cfg);
    if (why !== null) problems.push(new ConfigError(file, 'app_embedding.allow', why));
  }
  return problems;
}

/**
 * The sign-in of a framed server hands its one-time code to a page of the server's origin;
 * on the shared path layout every user's app is on that origin and could take it.
 */
function embeddingProblem(cfg: ParsedConfig): string | null {
  if (cfg.apps_domain === undefined)
    return "needs per-server origins (apps_domain): the sign-in of a framed server hands its code to the server's origin, which on the path layout every user's app shares";
  if (cfg.apps_scheme !== 'https' && !isLoopbackHost(cfg.apps_domain))
    return 'needs apps_scheme https: the cookie of a framed server is Secure and Partitioned, which browsers accept only from secure origins';
  return null;
}

function underDomain(host: string, domain: string): boolean {
  const h = host.toLowerCase();
  return h === domain || h.endsWith(`.${domain}`);
}

/** Plain objects merge key by key; anything else (lists, scalars) in `over` replaces. Undefined in `over` keeps the base. */
function deepMerge(
  base: Record<string, unknown>,
  over: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (value === undefined) continue;
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value;
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
