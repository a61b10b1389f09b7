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

const MAX_UID = 4294967294;

/** The whole table, elements included; applied in one nft transaction, so a rebuild never leaves the range open. */
export function guardTable(table: string, range: PortRange, entries: GuardEntry[] = []): string {
  const owned = entries.filter((e) => e.uid !== null).map((e) => `${e.port} . ${e.uid}`);
  const open = [...new Set(entries.filter((e) => e.uid === null).map((e) => e.port))];
  const elements = (list: Array<string | number>) =>
    list.length ? ` elements = { ${list.join(', ')} };` : '';
  const ports = `${range.min}-${range.max}`;
  return [
    `table inet ${table} {`,
    `  set owners { type inet_service . uid;${elements(owned)} }`,
    `  set open { type inet_service;${elements(open)} }`,
    '  chain output {',
    '    type filter hook output priority 0; policy accept;',
    // Only the opening SYN: replies and established connections are not looked at again.
    `    oifname "lo" tcp dport ${ports} tcp flags & (syn | ack) == syn jump guard`,
    '  }',
    '  chain guard {',
    '    tcp dport @open accept',
    '    tcp dport . meta skuid @owners accept',
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
export function replaceTable(table: string, range: PortRange, entries: GuardEntry[]): string {
  return `table inet ${table} {}\ndelete table inet ${table}\n${guardTable(table, range, entries)}`;
}

export function allowElement(table: string, e: { port: number; uid: number }): string {
  return `add element inet ${table} owners { ${e.port} . ${e.uid} }\n`;
}

/** Added, then deleted, in one transaction: removing a pair that is not there is no error. */
export function revokeElement(table: string, e: { port: number; uid: number }): string {
  return `${allowElement(table, e)}delete element inet ${table} owners { ${e.port} . ${e.uid} }\n`;
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
