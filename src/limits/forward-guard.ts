import type { Logger } from 'pino';
import type { Listener } from '../procfs/listeners.js';
import type { PortGuard } from './port-guard.js';
import type { ForwardEntry } from './port-guard-rules.js';

export interface ForwardGuardOptions {
  guard: PortGuard;
  /** The forwards open now (recorded, their server running), with their owners' uids. */
  wanted: () => Promise<ForwardEntry[]>;
  /** Every loopback-reachable listener now, by port: read once per sweep (on a busy host one read of /proc costs milliseconds). */
  listeners: () => Promise<Map<number, Listener[]>>;
  /** The uid of a user name (the forward's owner). */
  uidOf: (user: string) => Promise<number>;
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
    const keep = await this.live(await this.opts.wanted());
    for (const f of keep) this.held.set(f.port, f.uid);
    return keep;
  }

  /** `user` used a forward of `port`: guard it for them. Throws only what the guard throws under `required`. */
  async openFor(user: string, port: number): Promise<void> {
    await this.open({ port, uid: await this.opts.uidOf(user) });
  }

  /** `user`'s forward of `port` was forgotten or dropped. */
  async closeFor(user: string, port: number): Promise<void> {
    const uid = await this.opts.uidOf(user).catch(() => null);
    if (uid !== null) await this.close({ port, uid });
  }

  /** A forward was recorded or used: guard it if it is not. */
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
    if (wanted.length === 0 && this.held.size === 0) return;
    const live = await this.live(wanted);
    const key = (f: ForwardEntry) => `${f.port}:${f.uid}`;
    const liveKeys = new Set(live.map(key));
    for (const [port, uid] of [...this.held])
      if (!liveKeys.has(key({ port, uid }))) await this.close({ port, uid });
    for (const f of live)
      if (!this.held.has(f.port))
        await this.open(f).catch((err: unknown) =>
          this.opts.log.warn({ err, port: f.port }, 'port guard: could not guard a forward'),
        );
  }

  /** The forwards among `wanted` whose port only their owner's sockets listen on now. */
  private async live(wanted: ForwardEntry[]): Promise<ForwardEntry[]> {
    if (wanted.length === 0) return [];
    const table = await this.opts.listeners();
    return wanted.filter((f) => {
      const l = table.get(f.port) ?? [];
      return l.length > 0 && l.every((x) => x.uid === f.uid);
    });
  }
}

/** The guard's wanted forwards from the forwards of running servers: one per port and owner; an owner no longer known is left out. */
export async function forwardEntries(
  rows: Array<{ user: string; port: number }>,
  uidOf: (user: string) => Promise<number>,
): Promise<ForwardEntry[]> {
  const seen = new Map<string, ForwardEntry>();
  for (const r of rows) {
    const uid = await uidOf(r.user).catch(() => null);
    if (uid !== null) seen.set(`${r.port}:${uid}`, { port: r.port, uid });
  }
  return [...seen.values()];
}
