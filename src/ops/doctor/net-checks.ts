import { ChpRouteTable } from '../../chp/chp-client.js';
import { HubappsError } from '../../errors.js';
import { type CheckResult, type DoctorContext, fail, ok, skipped, warn } from './check.js';

/** CHP's API answers and takes the token: list the routes, as every reconcile pass does. */
export async function checkChp(ctx: DoctorContext): Promise<CheckResult[]> {
  if (!ctx.config)
    return [
      skipped(
        'configurable-http-proxy',
        'the config, with its chp.auth_token, must be valid first',
      ),
    ];
  const { api_url: apiUrl, auth_token: authToken } = ctx.config.chp;
  try {
    const routes = await new ChpRouteTable({ apiUrl, authToken, timeoutMs: 5000 }).list();
    return [
      ok(
        `configurable-http-proxy at ${apiUrl} accepts the token (${routes.size} hubapps route(s))`,
      ),
    ];
  } catch (err) {
    if (err instanceof HubappsError && err.code === 'chp_auth') {
      return [
        fail(
          `configurable-http-proxy at ${apiUrl} refuses the token`,
          `chp.auth_token must be the CONFIGPROXY_AUTH_TOKEN CHP runs with (${ctx.configFile})`,
        ),
      ];
    }
    const unreachable = err instanceof HubappsError && err.code === 'chp_unreachable';
    return [
      fail(
        unreachable
          ? `configurable-http-proxy at ${apiUrl} does not answer`
          : `configurable-http-proxy at ${apiUrl}: ${(err as Error).message}`,
        'start CHP (systemctl start configurable-http-proxy, docs/install.md) or correct chp.api_url',
      ),
    ];
  }
}

/**
 * The scopes hubapps uses JupyterHub's API for; missing ones fail. `tokens` must be
 * unfiltered: JupyterHub 3.0 refuses a service's token requests under tokens!group=… or
 * tokens!user=… (it checks the user as if it were a service).
 */
function neededScopes(ctx: DoctorContext): string[] {
  const hub = ctx.config?.jupyterhub;
  return [
    ...(hub?.forward_activity ? ['users:activity'] : []),
    ...(hub?.server_tokens_from_hub ? ['tokens'] : []),
  ];
}

/** JupyterHub's API answers, knows the service's token and grants it what hubapps needs. */
export async function checkHub(ctx: DoctorContext): Promise<CheckResult[]> {
  if (!ctx.settings) return [skipped('JupyterHub', 'the config cannot be read')];
  const apiUrl = ctx.settings.jupyterhub.api_url;
  if (!apiUrl)
    return [
      warn(
        'JupyterHub not configured (jupyterhub.api_url): no login through JupyterHub, only API tokens and login links',
      ),
    ];
  const token = ctx.config?.jupyterhub.api_token;
  if (!token)
    return [skipped(`JupyterHub at ${apiUrl}`, 'jupyterhub.api_token must be valid first')];
  const tokenFix = `jupyterhub.api_token must be the api_token of the hubapps service in jupyterhub_config.py (docs/jupyterhub.md)`;
  let res: Response;
  try {
    res = await fetch(`${apiUrl.replace(/\/$/, '')}/user`, {
      headers: { authorization: `token ${token}` },
      signal: AbortSignal.timeout(5000),
    });
  } catch (err) {
    return [
      fail(
        `JupyterHub API at ${apiUrl} does not answer (${(err as Error).cause ?? (err as Error).message})`,
        'start JupyterHub or correct jupyterhub.api_url (loopback, ending in /hub/api)',
      ),
    ];
  }
  if (res.status === 401 || res.status === 403)
    return [
      fail(`JupyterHub at ${apiUrl} does not accept the service token (${res.status})`, tokenFix),
    ];
  if (!res.ok)
    return [
      fail(
        `JupyterHub at ${apiUrl} answered ${res.status} to GET /user`,
        "is jupyterhub.api_url the hub's API (…/hub/api)?",
      ),
    ];
  const who = (await res.json().catch(() => ({}))) as {
    kind?: unknown;
    name?: unknown;
    scopes?: unknown;
  };
  const results = [
    ok(
      `JupyterHub at ${apiUrl} accepts the token (${String(who.kind ?? 'token')} ${String(who.name ?? '?')})`,
    ),
  ];
  if (!Array.isArray(who.scopes))
    return [
      ...results,
      warn("JupyterHub did not list the token's scopes: check them by hand (docs/jupyterhub.md)"),
    ];
  const scopes = who.scopes.filter((s): s is string => typeof s === 'string');
  const missing = neededScopes(ctx).filter(
    (need) => !scopes.some((s) => s === need || (need !== 'tokens' && s.startsWith(`${need}!`))),
  );
  if (missing.length > 0) {
    return [
      ...results,
      fail(
        `the service token lacks the scope(s) ${missing.join(', ')}`,
        'give the hubapps service a role with these scopes in jupyterhub_config.py (tokens unfiltered; docs/jupyterhub.md), or turn off what needs them (jupyterhub.forward_activity, jupyterhub.server_tokens_from_hub)',
      ),
    ];
  }
  return [
    ...results,
    ok(
      `the service token has the scopes hubapps needs${neededScopes(ctx).length ? ` (${neededScopes(ctx).join(', ')})` : ''}`,
    ),
  ];
}
