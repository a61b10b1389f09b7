import { ConfigError, HubappsError } from '../errors.js';
import type { UserPortsConfig } from '../config/user-ports.js';
import type { PortKind } from '../port-label.js';
import type { PortPolicy } from '../protocol/wire.js';
import type { CatalogApp } from './types.js';

type Range = [number, number];
type PortsApp = Pick<CatalogApp, 'name' | 'file' | 'ports'>;

const inside = (r: Range, outer: readonly Range[]) =>
  outer.some(([a, b]) => a <= r[0] && r[1] <= b);
const show = ([a, b]: Range) => (a === b ? String(a) : `${a}-${b}`);

/**
 * The port policy a server of `app` starts with (StartRequest.ports), or undefined when
 * users' ports are off for it (user_ports.enabled false, or the app's `ports: false`). An
 * app's ranges must lie inside the config's: throws a ConfigError naming the file and key
 * otherwise (check-config reports it first, through appPortProblems).
 */
export function portPolicy(cfg: UserPortsConfig, app: PortsApp): PortPolicy | undefined {
  if (!cfg.enabled || app.ports === false) return undefined;
  const ranges = app.ports?.ranges ?? cfg.ranges;
  const outside = ranges.filter((r) => !inside(r, cfg.ranges));
  if (outside.length > 0)
    throw new ConfigError(
      app.file,
      'ports.ranges',
      `${outside.map(show).join(', ')} ${outside.length === 1 ? 'lies' : 'lie'} outside the config's user_ports.ranges (${cfg.ranges.map(show).join(', ')}): an app file may only narrow them`,
    );
  return {
    ranges: ranges.map((r) => [r[0], r[1]]),
    hostPorts: cfg.host_ports,
    cors: cfg.cors.map((c) => ({ ports: [c.ports[0], c.ports[1]], origins: [...c.origins] })),
  };
}

/** Every app file whose `ports.ranges` reach outside user_ports.ranges, one message each (hubapps check-config). */
export function appPortProblems(cfg: UserPortsConfig, apps: readonly PortsApp[]): string[] {
  return apps.flatMap((app) => {
    try {
      portPolicy(cfg, app);
      return [];
    } catch (err) {
      return [(err as Error).message];
    }
  });
}

/**
 * Why `port` of `kind` may not be forwarded under `policy` (the server's own, from its app
 * and the config), or null when it may. The message names the setting to change.
 */
export function portRefusal(
  policy: PortPolicy | undefined,
  app: Pick<CatalogApp, 'name' | 'ports'> | undefined,
  port: number,
  kind: PortKind,
): HubappsError | null {
  if (policy === undefined)
    return new HubappsError(
      'ports_off',
      app?.ports === false
        ? `users' own ports are off for servers of app '${app.name}' (ports: false in its catalog file)`
        : "users' own ports are off on this host (config user_ports.enabled)",
    );
  if (kind === 'host' && !policy.hostPorts)
    return new HubappsError(
      'port_not_allowed',
      `ports opened outside hubapps' servers are not forwarded on this host (config user_ports.host_ports); open port ${port} from inside the server instead`,
    );
  if (!policy.ranges.some(([a, b]) => a <= port && port <= b)) {
    const where = app?.ports ? `app '${app.name}''s ports.ranges` : 'user_ports.ranges';
    return new HubappsError(
      'port_not_allowed',
      `port ${port} is not in ${where} (${policy.ranges.map(show).join(', ')}); use a port in ${policy.ranges.length === 1 ? 'that range' : 'those ranges'}`,
    );
  }
  return null;
}
