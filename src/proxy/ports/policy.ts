/**
 * The admin's port policy as the proxy applies it before anything else (config
 * user_ports, passed as StartRequest.ports): a port outside the ranges, host ports when
 * they are off, and the two ports that are hubapps' own (the proxy's listener and the
 * app's) are refused with a message that names the reason and the setting.
 */
import { isPortNumber, type PortKind } from '../../port-label.js';
import type { PortPolicy } from '../../protocol/wire.js';

export interface Refusal {
  status: 400 | 401 | 403 | 404 | 409 | 503;
  message: string;
}

export interface OwnPorts {
  /** The proxy's own TCP port (absent on a unix socket). */
  proxy?: number;
  /** The app's port, once known (absent for an app on a unix socket). */
  app?: number;
}

export function refusePort(
  port: number,
  kind: PortKind,
  policy: PortPolicy,
  own: OwnPorts,
): Refusal | null {
  if (!isPortNumber(port))
    return { status: 400, message: `${port} is not a port number: ports are 1-65535` };
  if (port === own.proxy || port === own.app)
    return {
      status: 403,
      message: `port ${port} is this server's own ${port === own.proxy ? 'proxy' : 'app'} port: open the server itself instead`,
    };
  if (kind === 'host' && !policy.hostPorts)
    return {
      status: 403,
      message: `ports opened outside hubapps' servers are not served here (user_ports.host_ports is off)`,
    };
  if (!policy.ranges.some(([a, b]) => port >= a && port <= b))
    return {
      status: 403,
      message: `port ${port} is not in user_ports.ranges (${policy.ranges.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(', ')})`,
    };
  return null;
}
