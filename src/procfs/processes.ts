/**
 * Looking at processes through /proc and signalling them, for the service and the proxy
 * alike. Pids are reused, so a pid is only signalled after /proc shows it is the process
 * we mean (`runs`, `isOurProxy`).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { errnoCode } from '../errors.js';

/** Owner uid of a live process, or null when it does not exist. */
export function ownerOf(pid: number): number | null {
  try {
    return statSync(`/proc/${pid}`).uid;
  } catch {
    return null;
  }
}

export function cmdlineOf(pid: number): string[] | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return null;
  }
}

/** True while /proc/PID exists and is neither a zombie nor dead. Works for other users' processes (no signal needed). */
export function alive(pid: number | null | undefined): boolean {
  if (!pid || pid <= 1) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Does the process still run a command that contains `needle`, or one of them (e.g. the proxy program's path)? */
export function runs(pid: number | null | undefined, needle: string | readonly string[]): boolean {
  if (!pid || !alive(pid)) return false;
  const argv = cmdlineOf(pid);
  return argv !== null && mentions(argv, needle);
}

/** Does a word of `argv` contain `needle`, or one of them? */
export function mentions(argv: readonly string[], needle: string | readonly string[]): boolean {
  const needles = typeof needle === 'string' ? [needle] : needle;
  return argv.some((a) => needles.some((n) => a.includes(n)));
}

/** Our own uid's process whose command line names the proxy. */
export function isOurProxy(pid: number, uid = process.getuid!()): boolean {
  if (pid === process.pid || ownerOf(pid) !== uid) return false;
  const argv = cmdlineOf(pid);
  return (
    argv !== null && argv.some((a) => a.includes('proxy/main.js') || a.includes('hubapps-proxy'))
  );
}

/**
 * Send a signal; false when the process (group, for a negative pid) no longer exists or
 * is not ours to signal (EPERM: another user's process, which we must leave alone).
 */
export function signal(pid: number, sig: NodeJS.Signals | 0): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ESRCH' || code === 'EPERM') return false;
    throw err;
  }
}

/**
 * Our processes whose environment carries all of `marks` (NAME=value). Finds app
 * processes that left the app's process group (setsid, daemons, Jupyter kernels).
 */
export function markedProcesses(marks: Record<string, string>, uid = process.getuid!()): number[] {
  const wanted = Object.entries(marks).map(([k, v]) => `${k}=${v}`);
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid || ownerOf(pid) !== uid) continue;
    let environ: string[];
    try {
      environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (wanted.every((w) => environ.includes(w)) && alive(pid)) found.push(pid);
  }
  return found;
}

/** Poll until `cond` holds or `ms` passes; returns whether it held. */
export async function waitUntil(
  cond: () => boolean | Promise<boolean>,
  ms: number,
  every = 50,
): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    if (await cond()) return true;
    if (Date.now() >= end) return false;
    await sleep(every);
  }
}
