/**
 * The processes a benchmark starts, and their cleanup: each one is stopped by its own pid
 * (SIGTERM, then SIGKILL), together with the descendants it had when the stop began, so
 * an app started by a proxy never outlives the run. Also reads memory figures from /proc.
 */
import { spawn, type SpawnOptions } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Child {
  name: string;
  pid: number;
  /** The newest 20 kB the process wrote to stdout and stderr. */
  output(): string;
  exited(): boolean;
  /** SIGTERM, SIGKILL after `graceMs`, then SIGKILL to descendants still alive. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL to this process alone, as a crash would end it; its children live on. */
  kill9(): Promise<void>;
}

export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Written to stdin, which is then closed. */
  stdin?: string;
  onOutput?: (text: string) => void;
}

export class Processes {
  private readonly children = new Set<Child>();

  start(name: string, file: string, args: string[], opts: StartOptions = {}): Child {
    const spawnOpts: SpawnOptions = {
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
    };
    const proc = spawn(file, args, spawnOpts);
    if (proc.pid === undefined) throw new Error(`cannot start ${name} (${file})`);
    const pid = proc.pid;
    let out = '';
    let gone = false;
    const keep = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      opts.onOutput?.(text);
      out = (out + text).slice(-20_000);
    };
    proc.stdout!.on('data', keep);
    proc.stderr!.on('data', keep);
    proc.stdin!.on('error', () => undefined);
    proc.stdin!.end(opts.stdin ?? '');
    const closed = new Promise<void>((resolve) => proc.once('close', () => resolve()));
    proc.once('exit', () => (gone = true));
    const killOnExit = () => signal(pid, 'SIGKILL');
    process.on('exit', killOnExit);
    const child: Child = {
      name,
      pid,
      output: () => out,
      exited: () => gone,
      stop: async (graceMs = 3000) => {
        const family = descendants(pid);
        if (!gone) {
          signal(pid, 'SIGTERM');
          const timer = setTimeout(() => signal(pid, 'SIGKILL'), graceMs);
          await closed;
          clearTimeout(timer);
        }
        process.off('exit', killOnExit);
        await killAll(family.filter(alive), 2000);
        this.children.delete(child);
      },
      kill9: async () => {
        signal(pid, 'SIGKILL');
        await closed;
        process.off('exit', killOnExit);
        this.children.delete(child);
      },
    };
    this.children.add(child);
    return child;
  }

  async stopAll(): Promise<void> {
    await Promise.allSettled([...this.children].map((c) => c.stop()));
  }
}

/** SIGTERM the pids, wait up to `graceMs`, SIGKILL what is left. */
export async function killAll(pids: number[], graceMs: number): Promise<void> {
  for (const pid of pids) signal(pid, 'SIGTERM');
  const end = Date.now() + graceMs;
  while (pids.some(alive) && Date.now() < end) await sleep(50);
  for (const pid of pids.filter(alive)) signal(pid, 'SIGKILL');
}

export function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** A live process (zombies count as gone). */
export function alive(pid: number): boolean {
  const stat = statOf(pid);
  return stat !== null && stat.state !== 'Z';
}

function statOf(pid: number): { state: string; ppid: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0]!, ppid: Number(fields[1]) };
  } catch {
    return null;
  }
}

/** Every process below `pid` in the parent tree, right now. */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = statOf(Number(name));
    if (stat) children.set(stat.ppid, [...(children.get(stat.ppid) ?? []), Number(name)]);
  }
  const found: number[] = [];
  const queue = [pid];
  for (let p = queue.pop(); p !== undefined; p = queue.pop()) {
    for (const c of children.get(p) ?? []) {
      found.push(c);
      queue.push(c);
    }
  }
  return found;
}

/** CPU time (user + system) a process has used so far, in ms; /proc counts in ticks of 10 ms. */
export function cpuMs(pid: number): number {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

export interface Memory {
  /** Resident set size, MB. */
  rss: number;
  /** Proportional set size (shared pages split among their users), MB. */
  pss: number;
  /** Peak RSS since the process started (VmHWM), MB. */
  peakRss: number;
}

/** RSS and PSS from /proc/PID/smaps_rollup, the peak from /proc/PID/status. */
export function memoryOf(pid: number): Memory {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (text: string, key: string) =>
    Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? Number.NaN);
  return {
    rss: kb(rollup, 'Rss') / 1024,
    pss: kb(rollup, 'Pss') / 1024,
    peakRss: kb(status, 'VmHWM') / 1024,
  };
}

/** Busy CPU time of the whole machine so far (user, nice, system, irq, softirq; all cores), ms. */
export function machineCpuMs(): number {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).map(Number);
  const [, user, nice, system, , , irq, softirq] = fields;
  return (user! + nice! + system! + irq! + softirq!) * 10;
}
