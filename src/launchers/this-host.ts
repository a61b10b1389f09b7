import { lookup } from 'node:dns/promises';
import { hostname, networkInterfaces } from 'node:os';

/**
 * Is `host` (a node name Slurm reported) this machine? Then a proxy there listens in this
 * host's socket table and its owner can be checked before a call; on a single-node cluster
 * the node is the hub host. A name that does not resolve is not this host.
 */
export async function isThisHost(host: string): Promise<boolean> {
  const own = hostname();
  if (host === own || host === own.split('.')[0]) return true;
  const local = new Set<string>();
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) local.add(a.address);
  try {
    const found = await lookup(host, { all: true });
    return (
      found.length > 0 && found.every((a) => local.has(a.address) || a.address.startsWith('127.'))
    );
  } catch {
    return false;
  }
}
