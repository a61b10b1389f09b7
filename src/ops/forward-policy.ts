/**
 * What the root helper lets the service guard among users' own ports (forwards). The
 * service names a port and a uid; root's configuration, the kernel's socket table and the
 * helper's fixed floor decide whether that pair may close the port to everyone else. A
 * service taken over by an attacker can so only guard a port that an allowed range holds
 * and that only that account's programs listen on: never 22, never a system service's
 * port, never another account's program.
 */
import { DEFAULT_MIN_UID } from '../config/schema.js';
import { userPortsSchema } from '../config/user-ports.js';
import {
  NOT_OWNERS_LISTENER,
  checkUid,
  type ForwardEntry,
  type PortRange,
} from '../limits/port-guard-rules.js';
import type { Listener } from '../procfs/listeners.js';

export interface ForwardPolicy {
  enabled: boolean;
  /** user_ports.ranges as root wrote them. */
  ranges: PortRange[];
  /** port_range: the apps' ports, guarded by their own rules. */
  appRange: PortRange;
  minUid: number;
}

/** Ports below this are the system's (binding them needs privilege): never a user's forward, whatever the ranges say. */
const LOWEST_FORWARD = 1024;
/** The kernel's overflow uid, shared by many and owned by nobody. */
const OVERFLOW_UID = 65534;

/** An error the helper reports with its own exit status. */
export class ForwardRefused extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** user_ports and min_uid of root's configuration (`doc`, read from `file`); throws a message naming the key. */
export function readForwardPolicy(
  doc: Record<string, unknown>,
  file: string,
  appRange: PortRange,
): ForwardPolicy {
  // The service's own schema: the helper reads the ranges exactly as the service does.
  const parsed = userPortsSchema.safeParse(doc.user_ports);
  if (!parsed.success)
    throw new Error(`${file}: key 'user_ports': ${parsed.error.issues[0]?.message}`);
  const minUid = doc.min_uid ?? DEFAULT_MIN_UID;
  if (typeof minUid !== 'number' || !Number.isInteger(minUid) || minUid < 1)
    throw new Error(`${file}: key 'min_uid': must be a positive integer`);
  const ranges = parsed.data.ranges.map(([min, max]) => ({ min, max }));
  return { enabled: parsed.data.enabled, ranges, appRange, minUid };
}

/**
 * `PORT UID` of a forward, checked against the policy and, unless `release` (taking a guard
 * back needs no listener), against the port's listeners now.
 */
export function checkForward(
  portText: string,
  uidText: string,
  policy: ForwardPolicy,
  listeners: (port: number) => Listener[],
  release = false,
): ForwardEntry {
  const port = Number(portText);
  if (!/^\d{1,5}$/.test(portText) || port > 65535)
    throw new ForwardRefused(`port '${portText}' is not a port`, 2);
  const uid = checkUid(uidText);
  if (release) return { port, uid };
  if (!policy.enabled)
    throw new ForwardRefused('user_ports.enabled is false: users have no ports to guard', 2);
  const inRanges = policy.ranges.some((r) => port >= r.min && port <= r.max);
  if (port < LOWEST_FORWARD || !inRanges)
    throw new ForwardRefused(
      `port ${port} is not in user_ports.ranges (${policy.ranges.map((r) => (r.min === r.max ? r.min : `${r.min}-${r.max}`)).join(', ') || 'none'}) of ports 1024 and up`,
      2,
    );
  const { min, max } = policy.appRange;
  if (port >= min && port <= max)
    throw new ForwardRefused(
      `port ${port} is in port_range ${min}-${max}: the apps' ports are guarded by their own rules`,
      2,
    );
  if (uid < policy.minUid || uid === OVERFLOW_UID)
    throw new ForwardRefused(`uid ${uid} is a system account's (min_uid is ${policy.minUid})`, 2);
  const held = listeners(port);
  if (held.length === 0 || held.some((l) => l.uid !== uid))
    throw new ForwardRefused(
      held.length === 0
        ? `nothing listens on port ${port}: nothing to guard`
        : `port ${port} has a listener of another uid than ${uid}: not guarded`,
      NOT_OWNERS_LISTENER,
    );
  return { port, uid };
}

/** A sync argument `fwd:PORT:UID`, or undefined for the other entry forms. */
export function forwardArg(text: string): [string, string] | undefined {
  const m = /^fwd:([^:]*):([^:]*)$/.exec(text);
  if (!m) return undefined;
  const [, port = '', uid = ''] = m;
  return [port, uid];
}

/** The forward pairs the table holds now, from `nft -j list set … forwards`. */
export function parseForwardSet(json: string): ForwardEntry[] {
  const doc = JSON.parse(json) as { nftables?: Array<{ set?: { elem?: unknown[] } }> };
  const elems = doc.nftables?.find((x) => x.set)?.set?.elem ?? [];
  return elems.flatMap((e) => {
    const pair = (e as { concat?: unknown[] }).concat;
    if (!Array.isArray(pair) || pair.length !== 2) return [];
    const [port = NaN, uid = NaN] = pair.map(Number);
    return Number.isInteger(port) && Number.isInteger(uid) ? [{ port, uid }] : [];
  });
}
