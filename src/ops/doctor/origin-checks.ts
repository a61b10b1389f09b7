import { randomBytes } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { ChpRouteTable } from '../../chp/chp-client.js';
import { HubappsError } from '../../errors.js';
import { sameSite } from '../../http/site.js';
import { type CheckResult, type DoctorContext, fail, ok, skipped, warn } from './check.js';

/**
 * The layout: per-server origins need the apps CHP, a wildcard DNS record and HTTPS for the
 * __Host- access cookies; the path layout gets a warning, since every server shares the
 * hub's origin there (docs/security.md, "What each layout protects against").
 */
export async function checkOrigins(ctx: DoctorContext): Promise<CheckResult[]> {
  if (!ctx.settings) return [skipped('per-server origins', 'the config cannot be read')];
  const domain = ctx.settings.apps_domain;
  if (domain === undefined) {
    return [
      warn(
        "path layout: all servers share the hub's origin, so a page one user's app serves runs on the same origin as everyone else's servers; " +
          'set apps_domain for per-server origins (docs/install.md, "Per-server origins")',
      ),
    ];
  }
  return [
    ...(await checkAppsChp(ctx)),
    await checkWildcard(domain),
    checkScheme(domain, ctx.settings.apps_scheme),
    ...checkSameSite(ctx.settings, domain),
  ];
}

/** Hub and apps under one registrable domain: a shared app's pages could toss cookies onto the hub, so the service refuses sharing unless told otherwise. */
function checkSameSite(
  settings: NonNullable<DoctorContext['settings']>,
  domain: string,
): CheckResult[] {
  const hub = new URL(settings.public_url).hostname;
  if (!settings.sharing || !sameSite(hub, domain)) return [];
  if (settings.sharing_same_site) {
    return [
      warn(
        `the hub (${hub}) and the apps (${domain}) share a registrable domain and sharing_same_site is true: a shared app's pages can plant cookies on the hub; give the apps their own registrable domain`,
      ),
    ];
  }
  return [
    warn(
      `the hub (${hub}) and the apps (${domain}) share a registrable domain: hubapps refuses sharing (a shared app's pages could plant cookies on the hub); give the apps their own registrable domain, or accept the risk with sharing_same_site: true`,
    ),
  ];
}

async function checkAppsChp(ctx: DoctorContext): Promise<CheckResult[]> {
  if (!ctx.config)
    return [
      skipped('the apps CHP', 'the config, with its apps_chp.auth_token, must be valid first'),
    ];
  const { api_url: apiUrl, auth_token: authToken } = ctx.config.apps_chp;
  try {
    const routes = await new ChpRouteTable({
      apiUrl,
      authToken,
      timeoutMs: 5000,
      name: 'the apps CHP',
    }).list();
    return [ok(`the apps CHP at ${apiUrl} accepts the token (${routes.size} hubapps route(s))`)];
  } catch (err) {
    if (err instanceof HubappsError && err.code === 'chp_auth') {
      return [
        fail(
          `the apps CHP at ${apiUrl} refuses the token`,
          `apps_chp.auth_token must be the CONFIGPROXY_AUTH_TOKEN the apps CHP runs with (${ctx.configFile})`,
        ),
      ];
    }
    return [
      fail(
        `the apps CHP at ${apiUrl} does not answer`,
        'start it (systemctl enable --now hubapps-apps-chp, docs/install.md "Per-server origins") or correct apps_chp.api_url',
      ),
    ];
  }
}

/** A random name under the domain must resolve, or browsers cannot reach servers on their own hosts. */
async function checkWildcard(domain: string): Promise<CheckResult> {
  const probe = `hubapps-probe-${randomBytes(4).toString('hex')}.${domain}`;
  if (domain === 'localhost' || domain.endsWith('.localhost')) {
    return ok(
      `${domain} is under .localhost, which browsers resolve to loopback themselves (demo and tests only)`,
    );
  }
  try {
    const { address } = await lookup(probe);
    return ok(`wildcard DNS: ${probe} resolves (${address})`);
  } catch (err) {
    return fail(
      `wildcard DNS: ${probe} does not resolve (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      `add a wildcard record *.${domain} pointing at this host's nginx (docs/install.md, "Per-server origins")`,
    );
  }
}

function checkScheme(domain: string, scheme: 'https' | 'http'): CheckResult {
  if (scheme === 'https')
    return ok(`apps are served over https: browsers accept their __Host- access cookies`);
  if (domain === 'localhost' || domain.endsWith('.localhost'))
    return warn(
      `apps_scheme is http: browsers treat *.localhost as secure, so this works for the demo only`,
    );
  return fail(
    `apps_scheme is http for ${domain}: browsers refuse the __Host- access cookies without https, so nobody could log in to a server`,
    `set apps_scheme: https and give nginx a wildcard certificate for *.${domain}`,
  );
}
