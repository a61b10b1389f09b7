/**
 * The WebSockets each browser session holds open, so that they close when a later check
 * of the session says no. While any are open, `sweep` runs once per interval: a session
 * that is never used again for a plain request is still checked in time.
 */
import type { Duplex } from 'node:stream';
import { log } from '../log.js';

export class SessionSockets {
  private readonly bySession = new Map<string, Set<Duplex>>();
  private sweeper: NodeJS.Timeout | null = null;

  /** @param sweep checks the sessions (this.sessions()) and closes those that ended */
  constructor(
    private readonly everyMs: number,
    private readonly sweep: () => Promise<void>,
  ) {}

  add(session: string, socket: Duplex): void {
    let set = this.bySession.get(session);
    if (!set) this.bySession.set(session, (set = new Set()));
    set.add(socket);
    socket.once('close', () => {
      set.delete(socket);
      if (set.size === 0 && this.bySession.get(session) === set) this.bySession.delete(session);
    });
    if (this.sweeper === null) {
      this.sweeper = setInterval(() => void this.tick(), this.everyMs);
      this.sweeper.unref();
    }
  }

  /** The sessions that hold open WebSockets now. */
  sessions(): string[] {
    return [...this.bySession.keys()];
  }

  /** Close the session's WebSockets, saying whose and why. */
  close(session: string, user: string | undefined, why: string): void {
    const set = this.bySession.get(session);
    if (!set) return;
    this.bySession.delete(session);
    log(`closing ${set.size} websocket(s) of ${user ?? 'an expired session'}: ${why}`);
    for (const socket of set) socket.destroy();
  }

  private async tick(): Promise<void> {
    if (this.bySession.size === 0) {
      if (this.sweeper !== null) clearInterval(this.sweeper);
      this.sweeper = null;
      return;
    }
    await this.sweep();
  }
}
