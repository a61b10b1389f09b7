import { readdir, readFile, readlink } from 'node:fs/promises';

/**
 * Does process `pid` hold a socket listening on 127.0.0.1:`port`? Read from /proc (Linux),
 * because a successful connect proves only that *someone* listens there: configurable-http-proxy
 * logs EADDRINUSE and keeps running without the port, while the other program answers.
 */
export async function listensOn(pid: number, port: number): Promise<boolean> {
  const inodes = await listeningInodes(port);
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

/** Inodes of TCP sockets in state LISTEN on 127.0.0.1:port, from /proc/net/tcp. */
async function listeningInodes(port: number): Promise<Set<string>> {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const inodes = new Set<string>();
  const table = await readFile('/proc/net/tcp', 'utf8');
  for (const line of table.split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    // columns: sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
    if (cols[1] === local && cols[3] === '0A' && cols[9]) inodes.add(cols[9]);
  }
  return inodes;
}
