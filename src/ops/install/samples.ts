import type { Layout } from './layout.js';
import { urlPort, type SiteOptions } from './site.js';

/**
 * The commented starting points `hubapps install` writes when none exist yet. The config
 * is valid as written (check-config passes once the CHP token file exists); the app sample
 * ends in .sample, so the catalog ignores it until an admin copies it to NAME.yaml.
 */

export function sampleConfig(layout: Layout, site: SiteOptions): string {
  const service = new URL(site.env.HUBAPPS_URL);
  return `# ${layout.configFile}: the hubapps service configuration.
#
# Written by \`hubapps install\` because no configuration existed. It is yours now:
# install never overwrites it. Every key, its default and its meaning:
# ${layout.libDir}/docs/configuration.md. Check your changes with
#   hubapps check-config --config ${layout.configFile}
# and the whole installation with \`hubapps doctor\`.

# How browsers reach configurable-http-proxy: scheme, host and port, no path.
# Redirects and the WebSocket Origin check use it.
${site.publicUrl ? `public_url: ${site.publicUrl}` : '#public_url: https://hub.example.org'}

# Only members of this Unix group may start apps (primary or supplementary, LDAP too).
allowed_group: ${layout.allowedGroup}

# The service's own address: the apps CHP sends unknown hosts here (HUBAPPS_URL in ${layout.chpEnvFile}).
listen:
  host: ${service.hostname.replace(/^\[(.*)\]$/, '$1')}
  port: ${urlPort(service)}

# The API's admin token, made by install (root's only): curl -H "Authorization: token $(cat ${layout.adminTokenFile})"
admin_token: credential:admin-token

chp:
  api_url: http://127.0.0.1:${site.env.CHP_API_PORT}
  # The token CHP runs with. The unit copies ${layout.chpTokenFile} into its
  # credentials directory (LoadCredential=chp-token:...); give CHP and JupyterHub the same file.
  auth_token: credential:chp-token
  # Without JupyterHub (which adds the route for its services), let hubapps add its own:
  #register_service_route: true

# Per-server origins (safer: each server on its own host name SERVER--USER.APPS_DOMAIN).
# Needs a wildcard DNS record, a wildcard certificate and the apps CHP unit
# ${layout.appsChpUnitFile} (docs/install.md, "Per-server origins"). Prefer a registrable
# domain of its own for the apps, not a subdomain of the hub's.
${appsSection(site)}

# Where install put things. proxy_command must match the sudoers rule in
# ${layout.sudoersFile} exactly; the proxy reads the catalog named in its wrapper.
proxy_command: ${layout.proxyPath}
# Only a server's owner may connect to its app's {port}: nftables rules kept by this root
# helper, which ${layout.guardSudoersFile} lets the service run (docs/security.md).
port_guard:
  command: ${layout.portGuardPath}
  table: ${layout.guardTable}
catalog_dir: ${layout.catalogDir}
data_dir: ${layout.dataDir}
log_dir: ${layout.logDir}
# Made by ${layout.tmpfilesFile} at boot; nobody but root may create anything else there.
proxy_socket_dir: ${layout.runDir}/proxies
runtime_dir: ${layout.runDir}/users

# Login through JupyterHub (hubapps is a JupyterHub service), see docs/jupyterhub.md:
#jupyterhub:
#  api_url: http://127.0.0.1:8081/hub/api
#  api_token: credential:hub-token
#  spawner_token: credential:spawner-token   # HubappsSpawner: install --jupyterhub-spawner, docs/jupyterhub.md

# Stop servers nobody uses (seconds; 0: never) and cap how many run.
#culler:
#  idle_timeout: 3600
#limits:
#  servers_per_user: 5
# Other values for the members of a Unix group (docs/install.md, "Per-group settings"):
#group_settings:
#  staff:
#    idle_timeout: 0
#    servers_per_user: 10
`;
}

function appsSection(site: SiteOptions): string {
  const on = site.appsDomain !== undefined;
  const c = on ? '' : '#';
  return [
    `${c}apps_domain: ${site.appsDomain ?? 'apps-example.org'}`,
    ...(site.appsScheme ? [`apps_scheme: ${site.appsScheme}`] : []),
    ...(site.appsPort ? [`apps_port: ${site.appsPort}`] : []),
    `${c}apps_chp:`,
    `${c}  api_url: http://127.0.0.1:${site.env.APPS_CHP_API_PORT}`,
    `${c}  auth_token: credential:apps-chp-token`,
  ].join('\n');
}

export function sampleApp(layout: Layout): string {
  return `# A sample app. The catalog reads only NAME.yaml files: copy this file to
# ${layout.catalogDir}/files.yaml (owned by root, mode 0644) to offer it; the app's name is
# the file name. Every key: ${layout.libDir}/docs/configuration.md.
# The service picks up changes to the catalog without a restart.

title: Files
description: Browse your home directory with Python's built-in web server.

# argv of the app, no shell. Placeholders: {port} {unix_socket} {base_url} {user} {server} {home}.
# The app runs as the user, in the user's home, with PATH=/usr/local/bin:/usr/bin:/bin:
# name programs by their absolute path. It listens on {unix_socket}, in a directory only
# its user can enter; an app on a loopback {port} relies on the port guard instead.
command:
  - /usr/bin/python3
  - -c
  - |
    import functools, http.server as h, socketserver as s, sys
    class Files(h.SimpleHTTPRequestHandler):
        def address_string(self): return 'local'
    s.ThreadingUnixStreamServer(sys.argv[1], functools.partial(Files, directory=sys.argv[2])).serve_forever()
  - "{unix_socket}"
  - "{home}"

# Extra environment variables (placeholders allowed).
#environment:
#  R_LIBS_USER: "{home}/R/library"

# How the proxy decides that the app has started.
ready:
  path: /
  timeout: 30

# true: the app sees paths without /apps/USER/SERVER; false: it gets the full path
# (and should be told {base_url}).
strip_prefix: true

# Stop the server after this many seconds without use (0: never).
#idle_timeout: 3600

# Only members of these groups may start it (empty: everyone in the allowed group).
#allowed_groups: [staff]
`;
}
