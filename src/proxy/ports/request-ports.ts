/** StartRequest.ports, checked as every other field of the start request is. */
import type { PortPolicy } from '../../protocol/wire.js';
import { array, bad, bool, int, object, origin } from '../request-checks.js';

export function portPolicy(v: unknown): PortPolicy {
  const p = object(v, 'ports');
  const ranges = array(p.ranges, 'ports.ranges').map((r, i) => range(r, `ports.ranges[${i}]`));
  if (ranges.length === 0) throw bad("'ports.ranges' must name at least one range");
  return {
    ranges,
    hostPorts: bool(p.hostPorts, 'ports.hostPorts'),
    cors: array(p.cors ?? [], 'ports.cors').map((c, i) => {
      const rule = object(c, `ports.cors[${i}]`);
      return {
        ports: range(rule.ports, `ports.cors[${i}].ports`),
        origins: array(rule.origins, `ports.cors[${i}].origins`).map((o, j) =>
          origin(o, `ports.cors[${i}].origins[${j}]`),
        ),
      };
    }),
  };
}

function range(v: unknown, key: string): [number, number] {
  const pair = array(v, key);
  if (pair.length !== 2) throw bad(`'${key}' must be [first, last]`);
  const first = int(pair[0], `${key}[0]`, 1, 65535);
  const last = int(pair[1], `${key}[1]`, first, 65535);
  return [first, last];
}
