import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import { join } from 'node:path';
import { HubappsError, errnoCode } from '../errors.js';
import {
  PROTOCOL_VERSION,
  type HealthReport,
  type StartRequest,
  type StopRequest,
} from '../protocol/wire.js';
import type {
  ExitInfo,
  Launch,
  Launcher,
  LaunchHandle,
  ProbeResult,
  ServerRef,
  StopOptions,
} from './launcher.js';
import { HandleLaunch, type HandleOps } from './launch.js';
import { attemptLine } from '../store/server-logs.js';
import { runs, signal, waitUntil } from '../procfs/processes.js';
import { ListenerOwners } from '../procfs/listeners.js';
import { fetchHealth, requestShutdown, type ProxyTarget } from './proxy-client.js';
import { proxyEnvironment } from './proxy-command.js';
import { PROXY_ENTRIES } from '../proxy/command-line.js';

/** Spawned processes remembered at most (ended ones are dropped first, oldest first). */
const MAX_REMEMBERED = 4096;

/**
 * A process launcher's saved state: the pid it spawned (sudo, or the proxy itself), the
 * proxy's pid once health said it, and the unix socket the proxy listens on (null for a
 * server started before proxies moved off TCP: it is still reached on its loopback port).
 */
interface Pids {
  launcherPid: number | null;
  proxyPid: number | null;
  socket: string | null;
}

function pids(handle: LaunchHandle): Pids {
  const { launcherPid, proxyPid, socket } = handle.state;
  return {
    launcherPid: typeof launcherPid === 'number' ? launcherPid : null,
    proxyPid: typeof proxyPid === 'number' ? proxyPid : null,
    socket: typeof socket === 'string' ? socket : null,
  };
}

/**
 * A fresh name per start, never derived from the server: /proc/net/unix shows every bound
 * path to every local account, so the name is no secret once bound, but nobody can bind it
 * before the proxy does, and the directory's sticky bit keeps anyone else from removing it.
 */
function socketName(): string {
  return `p-${randomBytes(12).toString('hex')}.sock`;
}

/**
 * What SudoLauncher and LocalLauncher share: spawn a detached process with the request
 * on stdin and the log file as stdout/stderr, probe it on its unix socket in `socketDir`,
 * and stop it step by step: the proxy's shutdown endpoint, then SIGTERM to the recorded
 * sudo, then the stop op run as the user. Subclasses say which command to run, how to
 * recognise their process in /proc, and how to do the last-resort kill.
 *
 * Tells `onExit` listeners when a process this instance started ends, so the lifecycle can
 * react at once instead of at the next reconcile pass. Its launches are HandleLaunches: the
 * per-handle methods below are what they call.
 */
export abstract class ProcessLauncher implements Launcher, HandleOps {
  abstract readonly kind: 'sudo' | 'local';
  /**
   * What this instance spawned, by pid: the server it is for, and how it ended once it has.
   * For its own children the kernel's exit event is the truth: /proc shows no command line
   * while a process execs (the cgroup wrapper execs sudo or the proxy), which read as gone.
   * A new spawn replaces the entry of an earlier process that had the same pid.
   */
  private readonly children = new Map<number, { serverId: number; exit: ExitInfo | null }>();
  private readonly events = new EventEmitter();
  private readonly listenerOwners = new ListenerOwners();
  private readonly owner = (port: number, uid: number) => this.listenerOwners.ownedBy(port, uid);

  constructor(private readonly socketDir: string) {}

  /** The command and arguments that run hubapps-proxy as `user` (its request goes on stdin). */
  protected abstract command(user: string): { file: string; args: string[] };
  /** A string (or one of several) in the launched process's /proc/PID/cmdline (sudo's or the proxy's) that proves a recorded pid is still one of ours. */
  protected abstract readonly marker: string | readonly string[];
  /** The uid a proxy started for `user` runs as: only that uid's listener on the port is the proxy. */
  protected abstract uidOf(user: string): Promise<number>;
  /** How a server's command runs: CgroupLauncher makes it enter the server's cgroup first. */
  wrapCommand = (_serverId: number, cmd: { file: string; args: string[] }) => cmd;

  /** On this host, so the socket's (or the port's) owner is checked; a user NSS no longer knows has nothing the service could trust (uid -1 matches none). */
  async target(handle: LaunchHandle): Promise<ProxyTarget> {
    const uid = await this.uidOf(handle.user).catch(() => -1);
    const { socket } = pids(handle);
    if (socket) return { socket, secret: handle.secret, uid };
    return { port: handle.port, secret: handle.secret, uid, listener: 'local' };
  }

  async start(spec: StartRequest, logFile: string): Promise<Launch> {
    const fd = openLog(logFile);
    try {
      fs.writeSync(fd, attemptLine(spec.server.user, spec.server.name, spec.app));
      const { file, args } = this.wrapCommand(spec.server.id, this.command(spec.server.user));
      // The row's port is the app's {port}: the proxy itself is reached only on its socket;
      // the hub's servers excepted, whose proxy the hub reaches on TCP `port` (appPort is set).
      const socket = spec.hub ? null : join(this.socketDir, socketName());
      const request: StartRequest = socket
        ? { ...spec, socket, ...(spec.port ? { appPort: spec.port } : {}) }
        : spec;
      const child = spawn(file, args, {
        detached: true,
        stdio: ['pipe', fd, fd],
        cwd: '/',
        env: this.environment(),
      });
      const pid = await new Promise<number>((resolve, reject) => {
        child.once('spawn', () => resolve(child.pid!));
        child.once('error', (err) => reject(err));
      }).catch((err: unknown) => {
        throw new HubappsError(
          'spawn_failed',
          `could not run ${file}: ${errnoCode(err) ?? (err as Error).message}; check ${this.kind === 'sudo' ? 'sudo_command' : 'the installation'}`,
          { cause: err },
        );
      });
      this.remember(pid, spec.server.id, null);
      child.stdin!.on('error', () => undefined);
      child.stdin!.end(`${JSON.stringify(request)}\n`);
      child.once('exit', (code, sig) => {
        const info = { code, signal: sig };
        this.remember(pid, spec.server.id, info);
        this.events.emit('exit', spec.server.id, info);
      });
      child.unref();
      const ref = {
        serverId: spec.server.id,
        user: spec.server.user,
        port: spec.port,
        secret: spec.secret,
      };
      return new HandleLaunch(this, {
        ...ref,
        kind: this.kind,
        pid,
        state: { launcherPid: pid, proxyPid: null, socket },
      });
    } finally {
      fs.closeSync(fd);
    }
  }

  restore(ref: ServerRef, saved: string | null): Launch {
    return new HandleLaunch(this, this.load(ref, saved));
  }

  private load(ref: ServerRef, saved: string | null): LaunchHandle {
    const state = saved ? (JSON.parse(saved) as Partial<Pids>) : {};
    const launcherPid = state.launcherPid ?? null;
    return {
      ...ref,
      kind: this.kind,
      pid: launcherPid,
      state: { launcherPid, proxyPid: state.proxyPid ?? null, socket: state.socket ?? null },
    };
  }

  save(handle: LaunchHandle): string {
    return JSON.stringify(pids(handle));
  }

  observe(handle: LaunchHandle, report: HealthReport): boolean {
    if (pids(handle).proxyPid === report.pid) return false;
    handle.state.proxyPid = report.pid;
    return true;
  }

  /** CHP 5.3 reads the socket's path, URL-encoded, from the host part of an http+unix URL. */
  routeTarget(handle: LaunchHandle): string {
    const { socket } = pids(handle);
    return socket ? `http+unix://${encodeURIComponent(socket)}` : `http://127.0.0.1:${handle.port}`;
  }

  onExit(listener: (serverId: number, info: ExitInfo) => void): void {
    this.events.on('exit', listener);
  }

  /** How the launched process ended, if this service instance started it and it has ended. */
  exitOf(handle: LaunchHandle): ExitInfo | undefined {
    return this.childOf(handle)?.exit ?? undefined;
  }

  /** This instance's record of the handle's launched process; undefined after a restart (or for a pid spawned for another server). */
  private childOf(handle: LaunchHandle): { serverId: number; exit: ExitInfo | null } | undefined {
    const { launcherPid } = pids(handle);
    const child = launcherPid ? this.children.get(launcherPid) : undefined;
    return child?.serverId === handle.serverId ? child : undefined;
  }

  private remember(pid: number, serverId: number, exit: ExitInfo | null): void {
    this.children.delete(pid);
    this.children.set(pid, { serverId, exit });
    // Ended processes are asked about only while their start or stop is followed: keep the newest.
    if (this.children.size > MAX_REMEMBERED) {
      for (const [old, c] of this.children) {
        if (this.children.size <= MAX_REMEMBERED) break;
        if (c.exit) this.children.delete(old);
      }
    }
  }

  async probe(handle: LaunchHandle, since = 0, waitMs = 0): Promise<ProbeResult> {
    const res = await fetchHealth(await this.target(handle), since, this.owner, 2000, waitMs);
    // Read after the call, which may have waited: a proxy that died meanwhile is not alive.
    const alive = this.processAlive(handle);
    if (res.ok && res.body.serverId === handle.serverId) {
      return { alive: true, answering: true, launched: alive, report: res.body };
    }
    return { alive, answering: false, launched: alive };
  }

  private processAlive(handle: LaunchHandle): boolean {
    const child = this.childOf(handle);
    if (child) return child.exit === null;
    const { launcherPid, proxyPid } = pids(handle);
    return runs(launcherPid, this.marker) || runs(proxyPid, PROXY_ENTRIES);
  }

  async stop(handle: LaunchHandle, opts: StopOptions = {}): Promise<void> {
    const grace = opts.graceMs ?? 5000;
    const gone = () => !this.processAlive(handle);
    const asked = await requestShutdown(
      await this.target(handle),
      this.owner,
      2000,
      opts.routeRemoved,
    );
    if (asked.ok && (await waitUntil(gone, grace + 3000))) return;
    // Signalled rather than asked, the proxy keeps its socket file (it cannot know its route is gone): the stop op below removes it.
    const { launcherPid, proxyPid } = pids(handle);
    const child = this.childOf(handle);
    if (launcherPid && (child ? child.exit === null : runs(launcherPid, this.marker))) {
      signal(launcherPid, 'SIGTERM');
      // A stopped process acts on SIGTERM only once continued, and sudo stops itself when its proxy is stopped.
      signal(launcherPid, 'SIGCONT');
    }
    if (await waitUntil(gone, grace + 2000)) return void (await this.forceKill(handle));
    await this.forceKill(handle);
    if (!(await waitUntil(gone, 3000))) {
      throw new HubappsError(
        'stop_failed',
        `server ${handle.serverId} of ${handle.user} did not stop (pids ${launcherPid}, ${proxyPid}); see its log`,
      );
    }
  }

  /**
   * Last resort, and the clean-up after a proxy died: a fresh proxy, run as the user, kills
   * the recorded proxy if it is still one of ours and then every process its app left
   * behind (they carry the server id and the proxy pid in their environment), and removes
   * the socket file a proxy that did not stop on request leaves (its route is gone by now).
   * Only the user may signal the user's processes and remove the user's file from the
   * sticky socket directory, hence a proxy and not the service.
   */
  async forceKill(handle: LaunchHandle): Promise<void> {
    const { proxyPid, socket } = pids(handle);
    if (!proxyPid) return;
    const req: StopRequest = {
      op: 'stop',
      version: PROTOCOL_VERSION,
      pid: proxyPid,
      server: { id: handle.serverId },
      ...(socket ? { socket } : {}),
    };
    const { file, args } = this.command(handle.user);
    await new Promise<void>((resolve) => {
      const child = spawn(file, args, {
        stdio: ['pipe', 'ignore', 'ignore'],
        env: this.environment(),
      });
      child.on('error', () => resolve());
      child.on('exit', () => resolve());
      child.stdin.on('error', () => undefined);
      child.stdin.end(`${JSON.stringify(req)}\n`);
    });
  }

  /** The proxy's environment; LocalLauncher keeps HOME as well. */
  protected environment(): NodeJS.ProcessEnv {
    return proxyEnvironment();
  }
}

/** The per-server log: appended to by the proxy and its app, owned by the service, not readable by users. */
function openLog(file: string): number {
  try {
    return fs.openSync(
      file,
      fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT,
      0o640,
    );
  } catch (err) {
    throw new HubappsError(
      'log_open_failed',
      `cannot open the server log ${file} (${errnoCode(err)}): the service user must own log_dir`,
      { cause: err },
    );
  }
}
