import type { PyValue, Statement } from './parse.js';

/**
 * Port-proxy set-ups of the old stack that hubapps' `user_ports` replaces: jupyter-server-
 * proxy's `/proxy/PORT` (settings of `c.ServerProxy` that shape it, or an address in a
 * value) and aiidalab's jhproxy (`/hub/proxyPORT/USER`, its X-Proxy-Token). Nothing is
 * translated: the admin gets a note naming the setting and the new address form, since
 * `user_ports` lives in hubapps.yaml, not in an app file.
 */

/** A note for the admin, on the line that shows the set-up (a migrate-conf Refusal's shape). */
export interface PortProxyNote {
  line: number;
  message: string;
}

const DOCS = 'docs/apps.md, "Your own ports"';
const NEW_FORM =
  '/apps/USER/SERVER/ports/PORT/ (ports/absolute/PORT/ for apps told their prefix), or PORT--p--SERVER--USER.APPS_DOMAIN with apps_domain';

/** The notebook extension's settings that are about `/proxy/PORT` (the `servers` it starts are apps of their own). */
const PROXY_SETTINGS = new Set([
  'host_allowlist',
  'host_whitelist',
  'non_service_rewrite_response',
]);
/** A `/proxy/PORT` address, literal or templated, as a Dask `dashboard.link` or a bookmark carries it. */
const PROXY_ADDRESS = /\/proxy\/(?:absolute\/)?(?:\{port\}|\d{2,5})(?!\w)/;
const JHPROXY = /\bjhproxy\b/;

export const PROXY_NOTE = `jupyter-server-proxy's /proxy/PORT maps to hubapps' own port proxy: turn on user_ports in hubapps.yaml (user_ports.ranges for the ports users may open); a port of a user's server is then at ${NEW_FORM} (${DOCS})`;
export const JHPROXY_NOTE = `jhproxy's port proxy maps to user_ports in hubapps.yaml: its proxied ports become user_ports.ranges, its X-Proxy-Token an API token sent as 'Authorization: token TOKEN', its cross-site (AJAX) use user_ports.cors; an address /hub/proxyPORT/USER becomes ${NEW_FORM} (${DOCS})`;

/** One note per statement that shows a port-proxy set-up. */
export function portProxyNotes(statements: Statement[]): PortProxyNote[] {
  const notes: PortProxyNote[] = [];
  for (const st of statements) {
    const note = noteFor(st);
    if (note) notes.push({ line: st.line, message: `\`${st.text}\`: ${note}` });
  }
  return notes;
}

function noteFor(st: Statement): string | undefined {
  if (st.kind === 'import' || st.kind === 'call' || st.kind === 'other')
    return JHPROXY.test(st.text) ? JHPROXY_NOTE : undefined;
  const strings = stringsIn(st.value);
  if (JHPROXY.test(st.text) || strings.some((s) => JHPROXY.test(s))) return JHPROXY_NOTE;
  const [root, cls, trait] = st.target;
  if (root === 'c' && cls === 'ServerProxy' && trait !== undefined && PROXY_SETTINGS.has(trait))
    return PROXY_NOTE;
  if (strings.some((s) => PROXY_ADDRESS.test(s))) return PROXY_NOTE;
  return undefined;
}

function stringsIn(value: PyValue | undefined): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsIn);
  if (value !== null && typeof value === 'object')
    return [...Object.keys(value), ...Object.values(value).flatMap(stringsIn)];
  return [];
}
