/**
 * Looking at processes through /proc and signalling them. Pids are reused, so a pid is
 * only signalled after /proc shows it is the process we mean.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { errnoCode } from '../errors.js';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

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

/** Our own uid's process whose command line names the proxy. */
export function isOurProxy(pid: number, uid = process.getuid!()): boolean {
  if (pid === process.pid || ownerOf(pid) !== uid) return false;
  const argv = cmdlineOf(pid);
  return argv !== null && argv.some((a) => a.includes('proxy/main.js') || a.includes('hubapps-proxy'));
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

/** Is the process alive (not a zombie)? */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
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

/** Poll until `done()` or `ms` elapsed; true if done. */
export async function waitFor(done: () => boolean, ms: number, step = 50): Promise<boolean> {
  const until = Date.now() + ms;
  while (!done()) {
    if (Date.now() >= until) return false;
    await sleep(step);
  }
  return true;
}
