import fs from 'node:fs';
import { isIP } from 'node:net';
import { configSchema } from '../../config/schema.js';
import { HubappsError } from '../../errors.js';

/**
 * What sites differ in, chosen at `hubapps install`: where both CHPs listen, where the hub
 * and the service answer for them, and how browsers reach hub and apps. The CHP units read
 * their part from the environment file (chp.env), so an admin changes a port by editing one
 * file, and a later `install` without the options keeps what is there.
 */
export interface SiteOptions {
  /** CHP_* and APPS_CHP_* and HUBAPPS_URL: the keys of chp.env. */
  env: ChpEnv;
  /** Written into a new hubapps.yaml only (install never edits an existing one). */
  publicUrl?: string;
  appsDomain?: string;
  appsScheme?: 'http' | 'https';
  appsPort?: number;
}

export interface ChpEnv {
  /** The address JupyterHub's CHP listens on for browsers (nginx in front: loopback). */
  CHP_IP: string;
  CHP_PORT: number;
  CHP_API_PORT: number;
  /** Where CHP sends paths without a route, and its error pages: the hub (JupyterHub's hub_bind_url). */
  CHP_HUB_URL: string;
  APPS_CHP_PORT: number;
  APPS_CHP_API_PORT: number;
  /** The service itself (its `listen`): the apps CHP's default target. */
  HUBAPPS_URL: string;
}

export const DEFAULT_CHP_ENV: ChpEnv = {
  CHP_IP: '127.0.0.1',
  CHP_PORT: 8000,
  CHP_API_PORT: 8001,
  CHP_HUB_URL: 'http://127.0.0.1:8081',
  APPS_CHP_PORT: 8002,
  APPS_CHP_API_PORT: 8003,
  HUBAPPS_URL: 'http://127.0.0.1:10101',
};

/** install's option for each chp.env key, for messages and --help. */
export const ENV_OPTIONS: Record<keyof ChpEnv, string> = {
  CHP_IP: 'chp-ip',
  CHP_PORT: 'chp-port',
  CHP_API_PORT: 'chp-api-port',
  CHP_HUB_URL: 'hub-url',
  APPS_CHP_PORT: 'apps-chp-port',
  APPS_CHP_API_PORT: 'apps-chp-api-port',
  HUBAPPS_URL: 'service-url',
};

const PORT_KEYS = new Set<keyof ChpEnv>([
  'CHP_PORT',
  'CHP_API_PORT',
  'APPS_CHP_PORT',
  'APPS_CHP_API_PORT',
]);
const URL_KEYS = new Set<keyof ChpEnv>(['CHP_HUB_URL', 'HUBAPPS_URL']);

/** One value of chp.env, checked; `where` names the option or the file and key. */
function envValue(key: keyof ChpEnv, raw: string, where: string): string | number {
  if (PORT_KEYS.has(key)) return port(raw, where);
  if (URL_KEYS.has(key)) return httpOrigin(raw, where);
  if (isIP(raw) === 0) throw invalid(where, `'${raw}' is not an IP address`);
  return raw;
}

export function port(raw: string, where: string): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1 || n > 65535)
    throw invalid(where, `'${raw}' is not a port (1-65535)`);
  return n;
}

/** scheme://host[:port], nothing after: a unit's target or the site's address. */
export function httpOrigin(raw: string, where: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalid(where, `'${raw}' is not a URL`);
  }
  if (!/^https?:$/.test(url.protocol) || url.origin !== raw.replace(/\/$/, '')) {
    throw invalid(where, `'${raw}' must be http(s)://HOST[:PORT] with no path, query or user`);
  }
  return url.origin;
}

/** A URL's port, or its scheme's default when it names none (URL drops default ports). */
export function urlPort(url: URL): number {
  return url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
}

function invalid(where: string, what: string): HubappsError {
  return new HubappsError('usage', `${where}: ${what}`);
}

/**
 * chp.env as it should be: what the file holds (an admin's edits), then the options given
 * now on top, then defaults for the rest. A bad value in the file names the file and key.
 */
export function mergeChpEnv(
  existing: string | undefined,
  file: string,
  given: Partial<Record<keyof ChpEnv, string>>,
): ChpEnv {
  const env: Record<string, string | number> = { ...DEFAULT_CHP_ENV };
  for (const line of (existing ?? '').split('\n')) {
    const m = /^\s*([A-Z_]+)=(.*)$/.exec(line);
    if (m && m[1]! in DEFAULT_CHP_ENV)
      env[m[1]!] = envValue(m[1] as keyof ChpEnv, m[2]!.trim(), `${file}: key ${m[1]}`);
  }
  for (const [key, raw] of Object.entries(given)) {
    if (raw !== undefined)
      env[key] = envValue(key as keyof ChpEnv, raw, `--${ENV_OPTIONS[key as keyof ChpEnv]}`);
  }
  return env as unknown as ChpEnv;
}

export function readIfExists(path: string): string | undefined {
  try {
    return fs.readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export function renderChpEnv(
  env: ChpEnv,
  names: { chpUnit: string; appsChpUnit: string; configFile: string },
): string {
  return `# Ports and targets of the configurable-http-proxy units ${names.chpUnit} and
# ${names.appsChpUnit}. Written by \`hubapps install\` (its --chp-port, --hub-url, ... options);
# a later install keeps these values unless given the option again. After a change:
#   systemctl restart ${names.chpUnit} ${names.appsChpUnit}
# and keep ${names.configFile} in step: chp.api_url is http://127.0.0.1:CHP_API_PORT,
# apps_chp.api_url http://127.0.0.1:APPS_CHP_API_PORT, listen the address in HUBAPPS_URL
# (\`hubapps doctor\` compares them).
${Object.entries(env)
  .map(([k, v]) => `${k}=${String(v)}`)
  .join('\n')}
`;
}

/** install's options for the new hubapps.yaml, checked by the config schema's own rules for those keys. */
export function configOptions(given: {
  'public-url'?: string;
  'apps-domain'?: string;
  'apps-scheme'?: string;
  'apps-port'?: string;
}): Omit<SiteOptions, 'env'> {
  const check = (
    key: 'public_url' | 'apps_domain' | 'apps_scheme',
    option: string,
    value: string,
  ): void => {
    const r = configSchema.shape[key].safeParse(value);
    if (!r.success)
      throw invalid(`--${option}`, `'${value}': ${r.error.issues[0]?.message ?? 'invalid'}`);
  };
  const out: Omit<SiteOptions, 'env'> = {};
  const {
    'public-url': publicUrl,
    'apps-domain': appsDomain,
    'apps-scheme': appsScheme,
    'apps-port': appsPort,
  } = given;
  if (publicUrl !== undefined) {
    check('public_url', 'public-url', publicUrl);
    out.publicUrl = httpOrigin(publicUrl, '--public-url');
  }
  if (appsDomain !== undefined) {
    check('apps_domain', 'apps-domain', appsDomain);
    out.appsDomain = appsDomain;
  }
  if (appsScheme !== undefined) {
    check('apps_scheme', 'apps-scheme', appsScheme);
    out.appsScheme = appsScheme as 'http' | 'https';
  }
  if (appsPort !== undefined) out.appsPort = port(appsPort, '--apps-port');
  if (
    (out.appsScheme !== undefined || out.appsPort !== undefined) &&
    out.appsDomain === undefined
  ) {
    throw invalid(
      out.appsScheme !== undefined ? '--apps-scheme' : '--apps-port',
      'only goes with --apps-domain (per-server origins)',
    );
  }
  return out;
}
