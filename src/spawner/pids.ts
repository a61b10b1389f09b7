import fs from 'node:fs';

/** Pids are reused: before signalling a recorded pid, check that /proc still shows the process we started. */
export function cmdlineOf(pid: number): string[] | null {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return null;
  }
}

/** True while /proc/PID exists and is not a zombie. Works for processes of other users (no signal needed). */
export function pidAlive(pid: number | null | undefined): boolean {
  if (!pid || pid <= 1) return false;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Does the process still run a command that contains `needle` (e.g. the proxy program's path)? */
export function runs(pid: number | null | undefined, needle: string): boolean {
  if (!pid || !pidAlive(pid)) return false;
  const argv = cmdlineOf(pid);
  return argv !== null && argv.some((a) => a.includes(needle));
}

/** Signal a process; a vanished process or one we may not signal is not an error here. */
export function signal(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Poll until `cond` holds or `ms` passes; returns whether it held. */
export async function waitUntil(cond: () => boolean | Promise<boolean>, ms: number, every = 50): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    if (await cond()) return true;
    if (Date.now() >= end) return false;
    await sleep(every);
  }
}
