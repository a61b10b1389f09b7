/**
 * The one shell of a terminal server and the browser tabs attached to it. The shell
 * starts when the first tab attaches (with that tab's size) and outlives a dropped
 * connection: a tab that reconnects, or any other tab, attaches to the same shell and
 * first gets the recent output replayed. When no tab has been attached for `graceMs`,
 * the shell is hung up, as when a terminal window closes. The shell's exit, for
 * whatever reason, ends the session.
 */
import { constants } from 'node:os';
import type { IPty } from 'node-pty';
import { spawn } from 'node-pty';
import type { WebSocket } from 'ws';
import type { AppExit, RunningApp } from '../../proxy/app/app-process.js';
import { PROXY_PID_VAR, SERVER_ID_VAR } from '../../proxy/app/marks.js';
import { markedProcesses, signal, waitUntil } from '../../procfs/processes.js';
import type { TerminalSize } from './protocol.js';
import { Scrollback } from './scrollback.js';
import { Viewer, type FlowLimits } from './viewer.js';

export interface SessionOptions {
  /** The shell and its arguments, e.g. ['/bin/bash', '-l']. */
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  log: (message: string) => void;
  /** Told the shell's pid once it runs. */
  onPid?: (pid: number) => void;
  /** Overrides of the defaults below (tests use short ones). */
  limits?: Partial<SessionLimits>;
}

export interface SessionLimits extends FlowLimits {
  /** How long the shell waits for a tab after the last one went away. */
  graceMs: number;
  /** Output kept for replay. */
  scrollbackBytes: number;
  /** After a hang-up, how long the shell has to exit before it is killed. */
  hangupMs: number;
}

const DEFAULT_LIMITS: SessionLimits = {
  graceMs: 60_000,
  scrollbackBytes: 256 * 1024,
  highWater: 512 * 1024,
  lowWater: 128 * 1024,
  stallMs: 30_000,
  hangupMs: 5000,
};

const DEFAULT_SIZE: TerminalSize = { cols: 80, rows: 24 };

export class TerminalSession implements RunningApp {
  readonly exited: Promise<AppExit>;
  private resolveExit!: (exit: AppExit) => void;
  private readonly limits: SessionLimits;
  private readonly viewers = new Set<Viewer>();
  private readonly scrollback: Scrollback;
  /** The server's marks in the shell's environment: they find what was started from it, even outside its process group. */
  private readonly marks: Record<string, string> | null;
  private pty: IPty | null = null;
  private paused = false;
  private ended = false;
  private graceTimer: NodeJS.Timeout | null = null;

  constructor(private readonly opts: SessionOptions) {
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    this.scrollback = new Scrollback(this.limits.scrollbackBytes);
    const [id, proxyPid] = [opts.env[SERVER_ID_VAR], opts.env[PROXY_PID_VAR]];
    this.marks = id && proxyPid ? { [SERVER_ID_VAR]: id, [PROXY_PID_VAR]: proxyPid } : null;
    this.exited = new Promise((resolve) => (this.resolveExit = resolve));
  }

  get pid(): number | null {
    return this.pty?.pid ?? null;
  }

  /** Attach a tab; the first one starts the shell. */
  attach(ws: WebSocket, size: TerminalSize | null): void {
    if (this.ended) return void ws.close(1001, 'the terminal has ended');
    const viewer = new Viewer(ws, this.limits, {
      input: (data) => {
        if (!this.ended) this.pty?.write(data);
      },
      resize: (cols, rows) => this.resize({ cols, rows }),
      flow: () => this.reconsiderFlow(),
      closed: (v) => this.detach(v),
    });
    this.viewers.add(viewer);
    this.clearGrace();
    viewer.control({ type: 'attached' });
    viewer.output(this.scrollback.contents());
    if (this.pty !== null) {
      if (size) this.resize(size);
      return;
    }
    try {
      this.startShell(size ?? DEFAULT_SIZE);
    } catch (err) {
      // node-pty reports a missing shell or home as output and exit 1; this is for openpty failing (EMFILE).
      const error = `cannot start the shell: ${(err as Error).message}`;
      this.opts.log(`terminal: ${error}`);
      viewer.close(1011, 'cannot start the shell');
      this.finish({ code: null, signal: null, error });
    }
  }

  /** Hang up the shell and end everything started from it; what is left after `graceMs` is killed. */
  async stop(graceMs: number): Promise<void> {
    this.clearGrace();
    for (const viewer of this.viewers) viewer.close(1001, 'the terminal server is stopping');
    if (this.pty === null) {
      this.finish({ code: null, signal: null, error: null });
      return;
    }
    // A hang-up ends the shell (interactive shells ignore SIGTERM); SIGTERM ends what ignores hang-ups (nohup).
    this.signalAll('SIGHUP');
    this.signalAll('SIGTERM');
    if (await waitUntil(() => !this.anythingLeft(), graceMs, 100)) return;
    this.signalAll('SIGKILL');
    await waitUntil(() => !this.anythingLeft(), 2000, 50);
  }

  private startShell(size: TerminalSize): void {
    const [file, ...args] = this.opts.argv;
    const pty = spawn(file!, args, {
      name: 'xterm-256color',
      cols: size.cols,
      rows: size.rows,
      cwd: this.opts.cwd,
      env: this.opts.env,
      encoding: 'utf8',
    });
    this.pty = pty;
    this.opts.log(`terminal: started ${file} (pid ${pty.pid})`);
    this.opts.onPid?.(pty.pid);
    pty.onData((text) => this.output(Buffer.from(text, 'utf8')));
    pty.onExit(({ exitCode, signal: sig }) => this.shellExited(exitCode, sig));
  }

  private output(chunk: Buffer): void {
    this.scrollback.push(chunk);
    for (const viewer of this.viewers) viewer.output(chunk);
  }

  private resize(size: TerminalSize): void {
    if (this.pty !== null && !this.ended) this.pty.resize(size.cols, size.rows);
  }

  /** The slowest tab sets the pace: the pty is paused while any tab is congested. */
  private reconsiderFlow(): void {
    if (this.pty === null || this.ended) return;
    const congested = [...this.viewers].some((v) => v.congested);
    if (congested === this.paused) return;
    this.paused = congested;
    if (congested) this.pty.pause();
    else this.pty.resume();
  }

  private detach(viewer: Viewer): void {
    this.viewers.delete(viewer);
    this.reconsiderFlow();
    if (this.viewers.size > 0 || this.pty === null || this.ended) return;
    this.graceTimer = setTimeout(() => this.hangUp(), this.limits.graceMs);
  }

  private hangUp(): void {
    this.opts.log(
      `terminal: no browser attached for ${Math.round(this.limits.graceMs / 1000)} s: hanging up the shell`,
    );
    this.pty?.kill('SIGHUP');
    setTimeout(() => {
      if (!this.ended) this.signalAll('SIGKILL');
    }, this.limits.hangupMs).unref();
  }

  private shellExited(code: number, sig: number | undefined): void {
    const signalName = sig
      ? (Object.entries(constants.signals).find(([, n]) => n === sig)?.[0] ?? String(sig))
      : null;
    this.opts.log(
      `terminal: the shell exited${signalName ? ` on ${signalName}` : ` with code ${code}`}`,
    );
    for (const viewer of this.viewers) {
      viewer.control({ type: 'exit', code: signalName ? null : code, signal: signalName });
      viewer.close(1000, 'the shell exited');
    }
    this.finish({
      code: signalName ? null : code,
      signal: signalName as NodeJS.Signals | null,
      error: null,
    });
  }

  private finish(exit: AppExit): void {
    this.ended = true;
    this.clearGrace();
    this.resolveExit(exit);
  }

  private clearGrace(): void {
    if (this.graceTimer !== null) clearTimeout(this.graceTimer);
    this.graceTimer = null;
  }

  /** The shell leads its own session and process group (node-pty calls setsid), so -pid reaches the group. */
  private anythingLeft(): boolean {
    const pid = this.pty?.pid;
    return (
      (pid !== undefined && signal(-pid, 0)) ||
      (this.marks !== null && markedProcesses(this.marks).length > 0)
    );
  }

  private signalAll(sig: NodeJS.Signals): void {
    const pid = this.pty?.pid;
    if (pid !== undefined) signal(-pid, sig);
    if (this.marks !== null) for (const p of markedProcesses(this.marks)) signal(p, sig);
  }
}
