/**
 * Who listens on a loopback port, read from /proc (Linux). A successful connect proves
 * only that *someone* listens there: configurable-http-proxy logs EADDRINUSE and keeps
 * running without its port, and any local user may bind a free port in the servers' range
 * and wait for the service to send it a secret or route browsers to it. The socket's owner
 * uid and inode in /proc/net/tcp and /proc/net/tcp6 say whose the listener is.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { readdir, readlink } from 'node:fs/promises';

/** A listening TCP socket that receives connections to 127.0.0.1:port. */
export interface Listener {
  uid: number;
  inode: string;
}

/**
 * Local addresses whose listeners a connection to 127.0.0.1 can reach, as /proc/net/tcp*
 * writes them (32-bit words in host byte order, little-endian here): 127.0.0.1, 0.0.0.0,
 * and for IPv6 sockets :: and the v4-mapped ::ffff:127.0.0.1 and ::ffff:0.0.0.0.
 */
const REACHES_LOOPBACK_V4 = new Set(['0100007F', '00000000']);
const REACHES_LOOPBACK_V6 = new Set([
  '00000000000000000000000000000000',
  '0000000000000000FFFF00000100007F',
  '0000000000000000FFFF000000000000',
]);
const LISTEN = '0A';
const LISTEN_FIELD = ` ${LISTEN} `;

/**
 * A /proc table read synchronously: the kernel hands it out a page per read, however large
 * the buffer, and each read through the thread pool costs more than the kernel's own work.
 * With 17,000 TIME_WAIT sockets on the host (a minute after a load test), readFile took
 * 60-100 ms for /proc/net/tcp and this loop 24 ms, all of it the kernel's; every start
 * waits for one such lookup (docs/benchmarks.md, run 9).
 */
export function readProcFile(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const chunks: Buffer[] = [];
    const buffer = Buffer.allocUnsafe(1 << 16);
    for (let n = readSync(fd, buffer); n > 0; n = readSync(fd, buffer))
      chunks.push(Buffer.from(buffer.subarray(0, n)));
    return Buffer.concat(chunks).toString('latin1');
  } finally {
    closeSync(fd);
  }
}

/** The text of /proc/net/tcp and of /proc/net/tcp6, each with whether it is the IPv6 one; a table that cannot be read (no IPv6 on this host) is left out. */
export function* tcpTables(): Generator<[text: string, v6: boolean]> {
  for (const v6 of [false, true]) {
    let text: string;
    try {
      text = readProcFile(v6 ? '/proc/net/tcp6' : '/proc/net/tcp');
    } catch {
      continue;
    }
    yield [text, v6];
  }
}

/** Every loopback-reachable listener on this host, by port, read from /proc/net/tcp and tcp6. */
export async function readListeners(): Promise<Map<number, Listener[]>> {
  return listenersNow();
}

/** The same, for a caller that runs once and has nothing to wait on (the root helper). */
export function listenersNow(): Map<number, Listener[]> {
  const byPort = new Map<number, Listener[]>();
  for (const [text, v6] of tcpTables()) {
    const addresses = v6 ? REACHES_LOOPBACK_V6 : REACHES_LOOPBACK_V4;
    for (const line of text.split('\n').slice(1)) {
      // Most lines of a busy host are connections (TIME_WAIT by the ten thousand): the state
      // column is the only field that can read " 0A " (addresses are hex without spaces, the
      // rest decimal), so they are skipped before the line is split.
      if (!line.includes(LISTEN_FIELD)) continue;
      // columns: sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      const cols = line.trim().split(/\s+/);
      if (cols[3] !== LISTEN || !cols[7] || !cols[9]) continue;
      const [addr, hexPort] = (cols[1] ?? '').split(':');
      if (!addresses.has(addr!) || !hexPort) continue;
      const port = parseInt(hexPort, 16);
      byPort.set(port, [...(byPort.get(port) ?? []), { uid: Number(cols[7]), inode: cols[9] }]);
    }
  }
  return byPort;
}

/** Every listener that a connection to 127.0.0.1:`port` could reach. */
export async function loopbackListeners(port: number): Promise<Listener[]> {
  return (await readListeners()).get(port) ?? [];
}

/** Does 127.0.0.1:`port` lead only to listeners of `uid` (and to at least one)? */
export async function listenerOwnedBy(port: number, uid: number): Promise<boolean> {
  return ownedBy(await loopbackListeners(port), uid);
}

function ownedBy(listeners: Listener[], uid: number): boolean {
  return listeners.length > 0 && listeners.every((l) => l.uid === uid);
}

/**
 * Listener owners for many calls at once: one read of /proc serves every call within
 * `maxAgeMs`. A reconcile pass probes every server in parallel, and the tables list every
 * TCP socket of the host, so reading them once per call costs milliseconds each.
 */
export class ListenerOwners {
  private snapshot: { at: number; table: Promise<Map<number, Listener[]>> } | undefined;

  constructor(
    private readonly maxAgeMs = 100,
    private readonly now: () => number = () => performance.now(),
  ) {}

  async ownedBy(port: number, uid: number): Promise<boolean> {
    const t = this.now();
    if (!this.snapshot || t - this.snapshot.at > this.maxAgeMs)
      this.snapshot = { at: t, table: readListeners() };
    return ownedBy((await this.snapshot.table).get(port) ?? [], uid);
  }
}

/** Does process `pid` hold a socket listening on 127.0.0.1:`port`? */
export async function listensOn(pid: number, port: number): Promise<boolean> {
  const inodes = new Set((await loopbackListeners(port)).map((l) => l.inode));
  if (inodes.size === 0) return false;
  let fds: string[];
  try {
    fds = await readdir(`/proc/${pid}/fd`);
  } catch {
    return false;
  }
  for (const fd of fds) {
    const link = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
    if (inode && inodes.has(inode)) return true;
  }
  return false;
}
