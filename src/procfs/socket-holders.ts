/**
 * Which processes hold which sockets: a socket's inode (from /proc/net/tcp*) appears as
 * the link target `socket:[INODE]` of one of the process's /proc/PID/fd entries. Only
 * processes of the caller's own uid (or all, as root) can be read this way, which is all
 * the proxy needs: it looks for its own server's processes.
 */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

/** The socket inodes process `pid` holds open (empty when it is gone or not ours to read). */
export function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return inodes;
  }
  for (const fd of fds) {
    let link: string;
    try {
      link = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue; // closed since the listing
    }
    const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
    if (inode !== undefined) inodes.add(inode);
  }
  return inodes;
}

/** Does one of `pids` hold one of `inodes`? */
export function heldByAny(inodes: ReadonlySet<string>, pids: readonly number[]): boolean {
  if (inodes.size === 0) return false;
  for (const pid of pids) for (const inode of socketInodes(pid)) if (inodes.has(inode)) return true;
  return false;
}

/** The process's command name (/proc/PID/comm), '' when it is gone. */
export function commandName(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}
