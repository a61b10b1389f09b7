/**
 * The jupyterhub_config.py the end-to-end test runs. hubappsSnippet() is the part an admin
 * copies: docs/jupyterhub.md shows it rendered with example values, and a test checks the
 * two stay the same text. The rest (ports, DummyAuthenticator, files in a temp dir) only
 * makes a throwaway hub.
 */

export interface SnippetValues {
  /** Where browsers reach CHP (scheme, host, port), e.g. https://hub.example.org */
  publicUrl: string;
  /** Where CHP and the hub reach the hubapps service, e.g. http://127.0.0.1:10101 */
  serviceUrl: string;
  /** configurable-http-proxy's REST API, e.g. http://127.0.0.1:8001 */
  chpApiUrl: string;
  /** File holding CHP's token (CONFIGPROXY_AUTH_TOKEN), shared with CHP's unit and hubapps. */
  chpTokenFile: string;
  /** File holding the hubapps service's api_token (also its OAuth client secret), shared with hubapps. */
  tokenFile: string;
  /** The JupyterHub group whose members may log in to hubapps. */
  group: string;
}

/** The documented values: what docs/jupyterhub.md shows. */
export const DOC_VALUES: SnippetValues = {
  publicUrl: 'https://hub.example.org',
  serviceUrl: 'http://127.0.0.1:10101',
  chpApiUrl: 'http://127.0.0.1:8001',
  chpTokenFile: '/etc/hubapps/chp-token',
  tokenFile: '/etc/hubapps/hub-token',
  group: 'hubapps-users',
};

const py = (s: string) => JSON.stringify(s);

export function hubappsSnippet(v: SnippetValues): string {
  return `# configurable-http-proxy runs as its own service, started with this token as
# CONFIGPROXY_AUTH_TOKEN; the hub and hubapps both add routes to it.
c.ConfigurableHTTPProxy.should_start = False
c.ConfigurableHTTPProxy.api_url = ${py(v.chpApiUrl)}
with open(${py(v.chpTokenFile)}) as f:
    c.ConfigurableHTTPProxy.auth_token = f.read().strip()

with open(${py(v.tokenFile)}) as f:
    hubapps_token = f.read().strip()

# hubapps as a JupyterHub service: the hub routes /services/hubapps/ to it and
# registers it as an OAuth client (client id "service-hubapps", secret = api_token).
c.JupyterHub.services = [
    {
        "name": "hubapps",
        "url": ${py(v.serviceUrl)},
        "api_token": hubapps_token,
        "oauth_redirect_uri": ${py(`${v.publicUrl}/services/hubapps/oauth_callback`)},
        "oauth_no_confirm": True,
    },
]

c.JupyterHub.load_roles = [
    # The service's own token: forward app activity to the hub's idle culler.
    {"name": "hubapps-service", "scopes": ["users:activity"], "services": ["hubapps"]},
    # Who may log in to hubapps at all (hubapps checks its Unix group as well).
    {
        "name": "hubapps-users",
        "scopes": ["access:services!service=hubapps"],
        "groups": [${py(v.group)}],
    },
]

# Users land on the launcher after logging in to the hub.
c.JupyterHub.default_url = "/services/hubapps/"
`;
}

export interface TestHubValues extends SnippetValues {
  /** Where CHP listens for browsers, e.g. http://127.0.0.1:PORT/ */
  bindUrl: string;
  /** The hub's own internal listener, e.g. http://127.0.0.1:PORT */
  hubBindUrl: string;
  dir: string;
  users: string[];
  /** Members of `group`: the others may log in to the hub but not to hubapps. */
  members: string[];
  /** Extra services (tokens) the test uses to look at the hub. */
  extraServices: { name: string; token: string; scopes: string[] }[];
  /** Lines appended to the config, e.g. a shorter last_activity_interval. */
  extraConfig?: string;
}

/** A whole throwaway hub: DummyAuthenticator (password from E2E_HUB_PASSWORD), state in `dir`. */
export function testHubConfig(v: TestHubValues): string {
  const extras = v.extraServices
    .map(
      (s) => `c.JupyterHub.services.append({"name": ${py(s.name)}, "api_token": ${py(s.token)}})
c.JupyterHub.load_roles.append({"name": ${py(`${s.name}-role`)}, "scopes": ${JSON.stringify(s.scopes)}, "services": [${py(s.name)}]})`,
    )
    .join('\n');
  return `import os
c = get_config()  # noqa: F821

c.JupyterHub.bind_url = ${py(v.bindUrl)}
c.JupyterHub.hub_bind_url = ${py(v.hubBindUrl)}
c.JupyterHub.db_url = ${py(`sqlite:///${v.dir}/jupyterhub.sqlite`)}
c.JupyterHub.cookie_secret_file = ${py(`${v.dir}/jupyterhub_cookie_secret`)}
c.JupyterHub.pid_file = ${py(`${v.dir}/jupyterhub.pid`)}
c.JupyterHub.authenticator_class = "jupyterhub.auth.DummyAuthenticator"
c.DummyAuthenticator.password = os.environ["E2E_HUB_PASSWORD"]
c.Authenticator.allowed_users = set(${JSON.stringify(v.users)})
c.JupyterHub.load_groups = {${py(v.group)}: ${JSON.stringify(v.members)}}

${hubappsSnippet(v)}
${extras}
${v.extraConfig ?? ''}
`;
}
