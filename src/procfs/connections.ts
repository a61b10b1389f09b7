/**
 * Who accepted a loopback TCP connection: the kernel lists the accepted end of a
 * connection in /proc/net/tcp* with the uid of the socket it was cloned from (the
 * listener's). A client that has just connected to 127.0.0.1:PORT from its own local port
 * L finds the row "local 127.0.0.1:PORT, remote 127.0.0.1:L" and so learns whose listener
 * took the connection: a check made after the connect, which no later bind can race.
 */
import { tcpTables } from './listeners.js';

/** A closed connection's TIME_WAIT row shows uid 0 whoever held it: it says nothing. */
const TIME_WAIT = '06';
/** 127.0.0.1 as /proc/net/tcp writes it, and its v4-mapped form in tcp6. */
const LOOPBACK_V4 = '0100007F';
const LOOPBACK_MAPPED = '0000000000000000FFFF00000100007F';

/** The uid of the socket that accepted our connection from 127.0.0.1:`localPort` to 127.0.0.1:`port`; null when no such row exists. */
export function acceptedBy(port: number, localPort: number): number | null {
  const server = hex(port);
  const client = hex(localPort);
  for (const [text, v6] of tcpTables()) {
    const address = v6 ? LOOPBACK_MAPPED : LOOPBACK_V4;
    const local = `${address}:${server}`;
    const remote = `${address}:${client}`;
    for (const line of text.split('\n')) {
      if (!line.includes(local) || !line.includes(remote)) continue;
      // columns: sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      const cols = line.trim().split(/\s+/);
      // Any other state: a program that answers and closes at once may already be in FIN_WAIT.
      if (cols[1] === local && cols[2] === remote && cols[3] !== TIME_WAIT) return Number(cols[7]);
    }
  }
  return null;
}

function hex(port: number): string {
  return port.toString(16).toUpperCase().padStart(4, '0');
}
