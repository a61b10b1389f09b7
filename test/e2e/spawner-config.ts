/**
 * The jupyterhub_config.py lines that make hubapps the hub's spawner. spawnerSnippet() is
 * what an admin adds (docs/jupyterhub.md, "Drop-in for sudospawner", shows it rendered with
 * SPAWNER_DOC_VALUES, and a test checks the two stay the same text); spawnerTestConfig()
 * adds what only the test's throwaway hub needs (an admin, a role for the sharing case).
 */

export interface SpawnerSnippetValues {
  /** The hubapps service's URL as the hub reaches it, with the service prefix and a trailing slash. */
  hubappsUrl: string;
  /** The spawner's token, shared with hubapps as jupyterhub.spawner_token. */
  tokenFile: string;
}

export const SPAWNER_DOC_VALUES: SpawnerSnippetValues = {
  hubappsUrl: 'http://127.0.0.1:10101/services/hubapps/',
  tokenFile: '/etc/hubapps/spawner-token',
};

const py = (s: string) => JSON.stringify(s);

export function spawnerSnippet(v: SpawnerSnippetValues): string {
  return `c.JupyterHub.spawner_class = "hubapps_spawner.HubappsSpawner"
c.JupyterHub.allow_named_servers = True
c.HubappsSpawner.hubapps_url = ${py(v.hubappsUrl)}
c.HubappsSpawner.token_file = ${py(v.tokenFile)}
c.JupyterHub.cleanup_servers = False
`;
}

export interface SpawnerTestValues extends SpawnerSnippetValues {
  /** Hub users who are hub admins (the admin panel's user). */
  admins: string[];
  /** Extra roles: name, scopes, users. */
  roles: { name: string; scopes: string[]; users: string[] }[];
  /** A service whose token the test reads servers with. */
  observer: { name: string; token: string; scopes: string[] };
}

export function spawnerTestConfig(v: SpawnerTestValues): string {
  const roles = v.roles
    .map(
      (r) =>
        `c.JupyterHub.load_roles.append({"name": ${py(r.name)}, "scopes": ${JSON.stringify(r.scopes)}, "users": ${JSON.stringify(r.users)}})`,
    )
    .join('\n');
  const { name, token, scopes } = v.observer;
  return `${spawnerSnippet(v)}
c.Authenticator.admin_users = set(${JSON.stringify(v.admins)})
# Every start shows the spawn-pending page, however fast it is (the test reads its progress bar).
c.JupyterHub.tornado_settings = {"slow_spawn_timeout": 0}
# The hub polls each server every second, so a restart of hubapps meets its polls.
c.Spawner.poll_interval = 1
${roles}
c.JupyterHub.services.append({"name": ${py(name)}, "api_token": ${py(token)}})
c.JupyterHub.load_roles.append({"name": ${py(`${name}-role`)}, "scopes": ${JSON.stringify(scopes)}, "services": [${py(name)}]})
`;
}
