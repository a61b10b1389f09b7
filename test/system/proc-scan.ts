import { readdirSync, readFileSync } from 'node:fs';
import { runOk } from './harness-exec.js';

/**
 * What system tests learn about processes from /proc, as root: who runs what, with which
 * environment. Nothing here signals anything.
 */

export interface ProcInfo {
  pid: number;
  /** Real, effective, saved and filesystem uid, from /proc/PID/status. */
  uids: number[];
  argv: string[];
}

function pids(): number[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .map(Number);
}

function readOrNull(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** Uid line of /proc/PID/status (real, effective, saved, fs), or null once the process is gone. */
export function uidsOf(pid: number): number[] | null {
  const status = readOrNull(`/proc/${pid}/status`);
  const line = status?.split('\n').find((l) => l.startsWith('Uid:'));
  return line ? line.slice(4).trim().split(/\s+/).map(Number) : null;
}

/** Alive and not a zombie. */
export function isAlive(pid: number | null | undefined): boolean {
  if (!pid) return false;
  const stat = readOrNull(`/proc/${pid}/stat`);
  return (
    stat !== null &&
    !/^[ZX]$/.test(stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3))
  );
}

export function parentOf(pid: number): number | null {
  const stat = readOrNull(`/proc/${pid}/stat`);
  return stat ? Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) : null;
}

export function environOf(pid: number): Record<string, string> {
  const raw = readOrNull(`/proc/${pid}/environ`) ?? '';
  const env: Record<string, string> = {};
  for (const entry of raw.split('\0').filter(Boolean)) {
    const eq = entry.indexOf('=');
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return env;
}

/** Every live process, with uids and argv (kernel threads have an empty argv). */
export function allProcesses(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const pid of pids()) {
    const uids = uidsOf(pid);
    const cmdline = readOrNull(`/proc/${pid}/cmdline`);
    if (!uids || cmdline === null || !isAlive(pid)) continue;
    out.push({ pid, uids, argv: cmdline.split('\0').filter(Boolean) });
  }
  return out;
}

/** Live processes with `uid` as real or effective uid. */
export function processesOfUid(uid: number): ProcInfo[] {
  return allProcesses().filter((p) => p.uids[0] === uid || p.uids[1] === uid);
}

/**
 * Live processes whose environment says they belong to server `serverId` of `user`
 * (HUBAPPS_SERVER_ID, JUPYTERHUB_USER). The user matters: ids are per database, and a
 * demo or another test on this machine has its own server 1.
 */
export function processesOfServer(serverId: number, user: string): ProcInfo[] {
  return allProcesses().filter((p) => {
    const env = environOf(p.pid);
    return env.HUBAPPS_SERVER_ID === String(serverId) && env.JUPYTERHUB_USER === user;
  });
}

/** Live processes whose argv mentions `needle` (e.g. the install directory). */
export function processesMentioning(needle: string): ProcInfo[] {
  return allProcesses().filter((p) => p.argv.some((a) => a.includes(needle)));
}

export async function uidOfUser(name: string): Promise<number> {
  return Number((await runOk('id', ['-u', name])).stdout.trim());
}
