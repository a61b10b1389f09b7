/**
 * Environment variables that mark every process of a server. The app's process group is
 * the first way to find its processes; these find the ones that left it (setsid, daemons,
 * Jupyter kernels) so a stop leaves nothing behind. Matching both the server id and the
 * proxy's pid keeps two proxies with the same server id (tests, separate databases) apart.
 */
export const SERVER_ID_VAR = 'HUBAPPS_SERVER_ID';
export const PROXY_PID_VAR = 'HUBAPPS_PROXY_PID';

export function serverMarks(serverId: number, proxyPid: number): Record<string, string> {
  return { [SERVER_ID_VAR]: String(serverId), [PROXY_PID_VAR]: String(proxyPid) };
}
