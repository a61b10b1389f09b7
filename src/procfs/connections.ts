/**
 * Who accepted a loopback TCP connection: the kernel lists the accepted end of a
 * connection in /proc/net/tcp* with the uid of the socket it was cloned from (the
 * listener's). A client that has just connected to 127.0.0.1:PORT from its own local port
 * L finds the row "local 127.0.0.1:PORT, remote 127.0.0.1:L" and so learns whose listener
 * took the connection: a check made after the connect, which no later bind can race.
 */
import { closeSync, openSync, readSync } from 'node:fs';

/** A closed connection's TIME_WAIT row shows uid 0 whoever held it: it says nothing. */
const TIME_WAIT = '06';
/** 127.0.0.1 as /proc/net/tcp writes it, and its v4-mapped form in tcp6. */
const LOOPBACK_V4 = '0100007F';
const LOOPBACK_MAPPED = '0000000000000000FFFF00000100007F';

/**
 * The uid of the socket that accepted our connection from 127.0.0.1:`localPort` to
 * 127.0.0.1:`port`; null when no such row exists. Runs for every new connection to a
 * user's port, and a busy host's tables hold tens of thousands of rows (TIME_WAIT): the
 * tables are scanned chunk by chunk for the one row and the read stops there, so a lookup
 * costs on average half a table's read and no split of its lines (docs/benchmarks.md, run 12).
 */
export function acceptedBy(port: number, localPort: number): number | null {
  for (const [path, address] of [
    ['/proc/net/tcp', LOOPBACK_V4],
    ['/proc/net/tcp6', LOOPBACK_MAPPED],
  ] as const) {
    let uid: number | null;
    try {
      uid = scanFor(path, `${address}:${hex(port)} ${address}:${hex(localPort)} `);
    } catch {
      continue; // no IPv6 on this host
    }
    if (uid !== null) return uid;
  }
  return null;
}

/** The uid of the first row of `path` that starts its addresses with `pair` and is not in TIME_WAIT. */
function scanFor(path: string, pair: string): number | null {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(1 << 16);
    let carry = '';
    for (let n = readSync(fd, buffer); n > 0; n = readSync(fd, buffer)) {
      const text = carry + buffer.toString('latin1', 0, n);
      const end = text.lastIndexOf('\n') + 1;
      for (let at = text.indexOf(pair); at >= 0 && at < end; at = text.indexOf(pair, at + 1)) {
        const line = text.slice(text.lastIndexOf('\n', at) + 1, text.indexOf('\n', at));
        // columns: sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
        const cols = line.trim().split(/\s+/);
        // Any other state: a program that answers and closes at once may already be in FIN_WAIT.
        if (cols[3] !== TIME_WAIT && cols[7] !== undefined) return Number(cols[7]);
      }
      carry = text.slice(end);
    }
    return null;
  } finally {
    closeSync(fd);
  }
}

function hex(port: number): string {
  return port.toString(16).toUpperCase().padStart(4, '0');
}
