/**
 * The nftables side of the port guard: which connections to port_range the kernel lets
 * through. A connection to an app's {port} over loopback is accepted only from a socket of
 * the server's owner (its proxy, or the owner's own programs); everyone else's is reset,
 * and nothing from another host reaches port_range at all. The service says which port is
 * whose; the rules themselves are fixed, written from the root-owned configuration.
 */

/** One allowed pair: connections to `port` from sockets of `uid`; uid null opens the port to every local account (a server from before the guard, whose proxy CHP reaches over TCP). */
export interface GuardEntry {
  port: number;
  uid: number | null;
}

export interface PortRange {
  min: number;
  max: number;
}

/** A user's own program forwarded through hubapps: only `uid` may connect to `port` over loopback. */
export interface ForwardEntry {
  port: number;
  uid: number;
}

const MAX_UID = 4294967294;

/** The whole table, elements included; applied in one nft transaction, so a rebuild never leaves the range open. */
export function guardTable(
  table: string,
  range: PortRange,
  entries: GuardEntry[] = [],
  forwards: ForwardEntry[] = [],
): string {
  const owned = entries.filter((e) => e.uid !== null).map((e) => `${e.port} . ${e.uid}`);
  const open = [...new Set(entries.filter((e) => e.uid === null).map((e) => e.port))];
  const elements = (list: Array<string | number>) =>
    list.length ? ` elements = { ${list.join(', ')} };` : '';
  const ports = `${range.min}-${range.max}`;
  return [
    `table inet ${table} {`,
    `  set owners { type inet_service . uid;${elements(owned)} }`,
    `  set open { type inet_service;${elements(open)} }`,
    `  set fwdports { type inet_service;${elements(forwards.map((f) => f.port))} }`,
    `  set forwards { type inet_service . uid;${elements(forwards.map((f) => `${f.port} . ${f.uid}`))} }`,
    '  chain output {',
    '    type filter hook output priority 0; policy accept;',
    // Only the opening SYN: replies and established connections are not looked at again.
    `    oifname "lo" tcp dport ${ports} tcp flags & (syn | ack) == syn jump guard`,
    '    oifname "lo" tcp dport @fwdports tcp flags & (syn | ack) == syn jump forward',
    '  }',
    '  chain guard {',
    '    tcp dport @open accept',
    '    tcp dport . meta skuid @owners accept',
    '    reject with tcp reset',
    '  }',
    // Users' own ports outside port_range, each while its forward is open: the owner only.
    '  chain forward {',
    '    tcp dport . meta skuid @forwards accept',
    '    reject with tcp reset',
    '  }',
    '  chain input {',
    '    type filter hook input priority 0; policy accept;',
    `    iifname != "lo" tcp dport ${ports} drop`,
    '  }',
    '}',
    '',
  ].join('\n');
}

/** Replace the table and its elements in one transaction (an empty table first, so the delete cannot fail). */
export function replaceTable(
  table: string,
  range: PortRange,
  entries: GuardEntry[],
  forwards: ForwardEntry[] = [],
): string {
  return `table inet ${table} {}\ndelete table inet ${table}\n${guardTable(table, range, entries, forwards)}`;
}

export function allowElement(table: string, e: { port: number; uid: number }): string {
  return `add element inet ${table} owners { ${e.port} . ${e.uid} }\n`;
}

/** Added, then deleted, in one transaction: removing a pair that is not there is no error. */
export function revokeElement(table: string, e: { port: number; uid: number }): string {
  return `${allowElement(table, e)}delete element inet ${table} owners { ${e.port} . ${e.uid} }\n`;
}

/**
 * Guard `f.port` for `f.uid` alone, dropping the pairs `stale` (other uids' earlier forwards
 * of the same port), in one transaction: a port never has two owners.
 */
export function forwardElements(table: string, f: ForwardEntry, stale: ForwardEntry[]): string {
  const drop = stale
    .filter((s) => s.port === f.port && s.uid !== f.uid)
    .map((s) => `delete element inet ${table} forwards { ${s.port} . ${s.uid} }\n`);
  return `${drop.join('')}add element inet ${table} fwdports { ${f.port} }\nadd element inet ${table} forwards { ${f.port} . ${f.uid} }\n`;
}

/** Release `f.port` if `f.uid` holds it (`held`: the pairs the table has now); another uid's forward of it stays. */
export function unforwardElements(table: string, f: ForwardEntry, held: ForwardEntry[]): string {
  if (!held.some((h) => h.port === f.port && h.uid === f.uid)) return '';
  return `delete element inet ${table} forwards { ${f.port} . ${f.uid} }\ndelete element inet ${table} fwdports { ${f.port} }\n`;
}

/** Open `port` to every local account's connections (a hub-started server's proxy, which the hub's CHP reaches). */
export function openElement(table: string, port: number): string {
  return `add element inet ${table} open { ${port} }\n`;
}

/** Take that back; adding first makes the delete succeed when it was not there. */
export function closeElement(table: string, port: number): string {
  return `${openElement(table, port)}delete element inet ${table} open { ${port} }\n`;
}

/** An entry as the helper's arguments give it: PORT:UID, or PORT:open. Throws a message naming what is wrong. */
export function parseEntry(text: string, range: PortRange): GuardEntry {
  const m = /^(\d{1,5}):(\d{1,10}|open)$/.exec(text);
  if (!m) throw new Error(`'${text}' is not PORT:UID or PORT:open`);
  const port = checkPort(m[1]!, range);
  return { port, uid: m[2] === 'open' ? null : checkUid(m[2]!) };
}

export function checkPort(text: string, range: PortRange): number {
  const port = Number(text);
  if (!/^\d{1,5}$/.test(text) || port < range.min || port > range.max)
    throw new Error(`port '${text}' is not in port_range ${range.min}-${range.max}`);
  return port;
}

export function checkUid(text: string): number {
  const uid = Number(text);
  if (!/^\d{1,10}$/.test(text) || uid > MAX_UID) throw new Error(`uid '${text}' is not a uid`);
  return uid;
}

/** The helper's exit status that says: connections are guarded as asked, binds are not (the bind guard failed). */
export const BIND_GUARD_FAILED = 3;

/** The helper's exit status that says: the port's listener is not (only) that uid's, so the forward was not guarded. */
export const NOT_OWNERS_LISTENER = 4;
