import type { Logger } from 'pino';
import type { Listener } from '../procfs/listeners.js';
import type { PortGuard } from './port-guard.js';
import type { ForwardEntry } from './port-guard-rules.js';

export interface ForwardGuardOptions {
  guard: PortGuard;
  /** The forwards open now (recorded, their server running), with their owners' uids. */
  wanted: () => Promise<ForwardEntry[]>;
  /** Who listens on a loopback port now. */
  listeners: (port: number) => Promise<Listener[]>;
  log: Logger;
  /** How often a sweep looks for forwards whose listener ended or changed hands. */
  everyMs?: number;
}

/**
 * Users' own ports for local accounts (docs/security.md, Local users): while a forward is
 * open and its program, the owner's, listens, only the owner's sockets may connect to the
 * port over loopback; the root helper decides which ports may be guarded at all. A port is
 * released when its forward is forgotten or its server ends, and by the next sweep when
 * its listener ended or is someone else's (so a port the owner left never locks out the
 * account that listens on it next).
 */
export class ForwardGuard {
  /** port -> the uid it is guarded for. */
  private readonly held = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;

  constructor(private readonly opts: ForwardGuardOptions) {}

  /** What start-up's sync should hold: the open forwards whose listener is the owner's. */
  async initial(): Promise<ForwardEntry[]> {
    const keep: ForwardEntry[] = [];
    for (const f of await this.opts.wanted())
      if (await this.ownersListener(f)) {
        keep.push(f);
        this.held.set(f.port, f.uid);
      }
    return keep;
  }

  /** A forward was recorded or used: guard it if it is not. Throws only what the guard throws under `required`. */
  async open(f: ForwardEntry): Promise<void> {
    if (this.held.get(f.port) === f.uid) return;
    if (await this.opts.guard.allowForward(f.port, f.uid)) this.held.set(f.port, f.uid);
  }

  /** A forward was forgotten or its server ended. */
  async close(f: ForwardEntry): Promise<void> {
    if (this.held.get(f.port) !== f.uid) return;
    this.held.delete(f.port);
    await this.opts.guard.revokeForward(f.port, f.uid);
  }

  /** Release what is no longer wanted or no longer the owner's, guard what is and is not yet. */
  sweep(): Promise<void> {
    this.sweeping ??= this.sweepOnce().finally(() => (this.sweeping = undefined));
    return this.sweeping;
  }

  start(): void {
    this.timer = setInterval(() => {
      this.sweep().catch((err: unknown) =>
        this.opts.log.warn({ err }, 'port guard: the sweep of forwards failed'),
      );
    }, this.opts.everyMs ?? 5_000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async sweepOnce(): Promise<void> {
    const wanted = await this.opts.wanted();
    const key = (f: ForwardEntry) => `${f.port}:${f.uid}`;
    const live = new Set<string>();
    for (const f of wanted) if (await this.ownersListener(f)) live.add(key(f));
    for (const [port, uid] of [...this.held])
      if (!live.has(key({ port, uid }))) await this.close({ port, uid });
    for (const f of wanted)
      if (live.has(key(f)) && !this.held.has(f.port))
        await this.open(f).catch((err: unknown) =>
          this.opts.log.warn({ err, port: f.port }, 'port guard: could not guard a forward'),
        );
  }

  private async ownersListener(f: ForwardEntry): Promise<boolean> {
    const l = await this.opts.listeners(f.port);
    return l.length > 0 && l.every((x) => x.uid === f.uid);
  }
}
