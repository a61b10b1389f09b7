/**
 * The ports this server's processes listen on now (GET /_hubapps/ports, PortListing): the
 * launcher lists them under the server with an Open button. The proxy's own port and the
 * app's port are the server itself, not one of the user's ports, and are left out.
 */
import type { ListeningPort, PortListing } from '../../protocol/wire.js';
import { readListeners } from '../../procfs/listeners.js';
import { markedProcesses } from '../../procfs/processes.js';
import { commandName, socketInodes } from '../../procfs/socket-holders.js';

export async function listPorts(
  marks: Record<string, string>,
  exclude: readonly number[],
): Promise<PortListing> {
  const portOf = new Map<string, number>();
  for (const [port, listeners] of await readListeners())
    for (const l of listeners) portOf.set(l.inode, port);
  const found = new Map<number, ListeningPort>();
  for (const pid of markedProcesses(marks)) {
    for (const inode of socketInodes(pid)) {
      const port = portOf.get(inode);
      if (port === undefined || exclude.includes(port) || found.has(port)) continue;
      found.set(port, { port, pid, command: commandName(pid) });
    }
  }
  return { ports: [...found.values()].sort((a, b) => a.port - b.port) };
}
