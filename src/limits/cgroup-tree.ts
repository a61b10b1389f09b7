import fs from 'node:fs';
import path from 'node:path';
import { errnoCode } from '../errors.js';
import type { ServerResources } from './resources.js';

const MIB = 1024 * 1024;
const CPU_PERIOD_US = 100_000;
export const V1_CONTROLLERS = ['memory', 'cpu', 'pids'] as const;
const V2_CONTROLLERS = ['memory', 'cpu', 'pids'];
/** The leaf the service moves itself into on cgroup v2: a cgroup with children may hold no processes. */
export const V2_SERVICE_LEAF = 'service';

/** Where servers' cgroups go: one directory per v1 controller, or the one delegated v2 directory. */
export type CgroupLayout =
  | { version: 1; roots: Record<(typeof V1_CONTROLLERS)[number], string> }
  | { version: 2; root: string };

/** How a memory cgroup ended: how often the kernel killed in it, and its limit. */
export interface OomRecord {
  kills: number;
  limitBytes: number;
}

/**
 * Which cgroup hierarchy this host runs, read at start-up. A v2 host mounts the unified tree
 * at the root (cgroup.controllers there); a v1 or hybrid host mounts one directory per
 * controller, and its v2 part (if any) holds none of the controllers that matter here.
 * `selfCgroup`: /proc/self/cgroup, whose `0::PATH` line is the service's own v2 cgroup.
 */
export function detectLayout(fsRoot: string, v1Name: string, selfCgroup: string): CgroupLayout {
  if (fs.existsSync(path.join(fsRoot, 'cgroup.controllers'))) {
    const own = /^0::(\/.*)$/m.exec(selfCgroup)?.[1] ?? '/';
    const parts = own.split('/').filter(Boolean);
    // After the first start the service already sits in its leaf; the delegated root is the parent.
    if (parts.at(-1) === V2_SERVICE_LEAF) parts.pop();
    return { version: 2, root: path.join(fsRoot, ...parts) };
  }
  const roots = Object.fromEntries(
    V1_CONTROLLERS.map((c) => [c, path.join(fsRoot, c, v1Name)]),
  ) as Record<(typeof V1_CONTROLLERS)[number], string>;
  return { version: 1, roots };
}

/** Why servers cannot get cgroups here, or null when they can (the service's own view: doctor and start-up ask). */
export function layoutProblem(layout: CgroupLayout): string | null {
  const dirs = layout.version === 1 ? Object.values(layout.roots) : [layout.root];
  for (const dir of dirs) {
    try {
      fs.accessSync(dir, fs.constants.W_OK | fs.constants.X_OK);
    } catch (err) {
      const fix =
        layout.version === 1
          ? "run 'hubapps cgroup-setup' as root (the unit's ExecStartPre does it at every boot)"
          : 'the unit needs Delegate=yes (hubapps install writes it)';
      return `the cgroup directory ${dir} is ${errnoCode(err) === 'ENOENT' ? 'missing' : 'not writable by the service user'}: ${fix}`;
    }
  }
  if (layout.version === 2) {
    const enabled = fs.existsSync(path.join(layout.root, 'cgroup.subtree_control'))
      ? readText(path.join(layout.root, 'cgroup.subtree_control')).split(/\s+/)
      : [];
    const missing = V2_CONTROLLERS.filter((c) => !enabled.includes(c));
    if (missing.length)
      return `the controllers ${missing.join(', ')} are not enabled for ${layout.root}'s children: the unit needs Delegate=yes`;
  }
  return null;
}

/**
 * On cgroup v2 the service's delegated cgroup may hold processes or children, not both:
 * the service moves itself into a leaf, then enables the controllers for the children.
 */
export function claimV2Root(root: string, pid: number): void {
  const leaf = path.join(root, V2_SERVICE_LEAF);
  fs.mkdirSync(leaf, { recursive: true });
  fs.writeFileSync(path.join(leaf, 'cgroup.procs'), `${pid}\n`);
  fs.writeFileSync(
    path.join(root, 'cgroup.subtree_control'),
    V2_CONTROLLERS.map((c) => `+${c}`).join(' '),
  );
}

/** The service's side of servers' cgroups: create with limits, say where a process enters, read how it ended, remove. */
export class CgroupTree {
  constructor(
    readonly layout: CgroupLayout,
    /** A real cgroup directory is removed with rmdir whatever files it shows; tests on a plain directory pass a recursive remove. */
    private readonly rmdir: (dir: string) => void = fs.rmdirSync,
  ) {}

  private dirs(serverId: number): Record<string, string> {
    const leaf = `server-${serverId}`;
    if (this.layout.version === 2)
      return {
        memory: path.join(this.layout.root, leaf),
        cpu: path.join(this.layout.root, leaf),
        pids: path.join(this.layout.root, leaf),
      };
    const r = this.layout.roots;
    return {
      memory: path.join(r.memory, leaf),
      cpu: path.join(r.cpu, leaf),
      pids: path.join(r.pids, leaf),
    };
  }

  /**
   * Make the server's cgroup and write its limits. One left by an earlier run of the same id
   * is removed first; one still holding a process of an attempt that is ending (a retry on
   * another port) is reused, its limits written again.
   */
  create(serverId: number, r: ServerResources): void {
    this.remove(serverId);
    const d = this.dirs(serverId);
    for (const dir of new Set(Object.values(d))) fs.mkdirSync(dir, { recursive: true });
    const mem = String(r.memMb * MIB);
    const quota = String(Math.max(1000, Math.round(r.cpus * CPU_PERIOD_US)));
    if (this.layout.version === 1) {
      write(d.memory!, 'memory.limit_in_bytes', mem);
      // Without it the app would swap instead of meeting its limit, where swap accounting is on.
      writeIfPresent(d.memory!, 'memory.memsw.limit_in_bytes', mem);
      write(d.cpu!, 'cpu.cfs_period_us', String(CPU_PERIOD_US));
      write(d.cpu!, 'cpu.cfs_quota_us', quota);
      write(d.pids!, 'pids.max', String(r.pids));
    } else {
      write(d.memory!, 'memory.max', mem);
      writeIfPresent(d.memory!, 'memory.swap.max', '0');
      write(d.cpu!, 'cpu.max', `${quota} ${CPU_PERIOD_US}`);
      write(d.pids!, 'pids.max', String(r.pids));
    }
  }

  /** The cgroup.procs files a process writes its pid into to enter the server's cgroup (one per v1 controller). */
  procsFiles(serverId: number): string[] {
    return [...new Set(Object.values(this.dirs(serverId)))].map((dir) =>
      path.join(dir, 'cgroup.procs'),
    );
  }

  /** The memory cgroup's kill count and limit; null when the cgroup is gone. */
  oomRecord(serverId: number): OomRecord | null {
    const dir = this.dirs(serverId).memory!;
    try {
      if (this.layout.version === 1) {
        const kills = counter(readText(path.join(dir, 'memory.oom_control')), 'oom_kill');
        return {
          kills,
          limitBytes: Number(readText(path.join(dir, 'memory.limit_in_bytes')).trim()),
        };
      }
      const kills = counter(readText(path.join(dir, 'memory.events')), 'oom_kill');
      return { kills, limitBytes: Number(readText(path.join(dir, 'memory.max')).trim()) };
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return null;
      throw err;
    }
  }

  /** Remove the server's cgroup; false while a process still lives in it (the kernel refuses with EBUSY). */
  remove(serverId: number): boolean {
    let gone = true;
    for (const dir of new Set(Object.values(this.dirs(serverId)))) {
      try {
        this.rmdir(dir);
      } catch (err) {
        if (errnoCode(err) === 'ENOENT') continue;
        if (errnoCode(err) !== 'EBUSY') throw err;
        gone = false;
      }
    }
    return gone;
  }

  /** Servers whose cgroup directories exist (leftovers show here after a crash). */
  servers(): number[] {
    const root = this.layout.version === 1 ? this.layout.roots.memory : this.layout.root;
    try {
      return fs
        .readdirSync(root)
        .flatMap((n) => (/^server-(\d+)$/.exec(n) ? [Number(n.slice(7))] : []));
    } catch {
      return [];
    }
  }
}

function write(dir: string, file: string, value: string): void {
  fs.writeFileSync(path.join(dir, file), value);
}

function writeIfPresent(dir: string, file: string, value: string): void {
  if (fs.existsSync(path.join(dir, file))) write(dir, file, value);
}

function readText(file: string): string {
  return fs.readFileSync(file, 'utf8');
}

/** A `key value` line of a flat-keyed cgroup file (memory.events, memory.oom_control). */
function counter(text: string, key: string): number {
  const m = new RegExp(`^${key} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}
