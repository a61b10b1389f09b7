/**
 * Open WebSockets to users' ports, asked about again: a share the owner takes back (or an
 * admin's access that ends) closes the visitor's open connections within one interval, as
 * a revoked session closes the server's (access/gate.ts). The question goes to the service
 * through PortAccess, whose cached yes lasts at most that interval. A service that cannot
 * be asked closes nothing: it is asked again at the next interval.
 */
import type { Duplex } from 'node:stream';
import type { PortKind } from '../../port-label.js';
import { log } from '../log.js';
import type { Refusal } from './policy.js';

export interface PortQuestion {
  check(user: string, port: number, kind: PortKind): Refusal | null | Promise<Refusal | null>;
}

interface Held {
  user: string;
  port: number;
  kind: PortKind;
}

export class PortSockets {
  private readonly open = new Map<Duplex, Held>();
  private sweeper: NodeJS.Timeout | null = null;

  constructor(
    private readonly access: PortQuestion,
    private readonly intervalMs: number,
  ) {}

  track(socket: Duplex, held: Held): void {
    this.open.set(socket, held);
    socket.once('close', () => this.open.delete(socket));
    if (this.sweeper === null) {
      this.sweeper = setInterval(() => void this.sweep(), this.intervalMs);
      this.sweeper.unref();
    }
  }

  get size(): number {
    return this.open.size;
  }

  /** Ask once per (user, port, kind) and close the connections of every answer that is a refusal. */
  async sweep(): Promise<void> {
    if (this.open.size === 0 && this.sweeper !== null) {
      clearInterval(this.sweeper);
      this.sweeper = null;
      return;
    }
    const asked = new Map<string, Promise<Refusal | null>>();
    await Promise.all(
      [...this.open].map(async ([socket, h]) => {
        const key = `${h.user}\n${h.port}\n${h.kind}`;
        let answer = asked.get(key);
        if (answer === undefined) {
          answer = Promise.resolve(this.access.check(h.user, h.port, h.kind));
          asked.set(key, answer);
        }
        const refusal = await answer;
        if (refusal === null || refusal.status === 503) return;
        log(`closing a websocket of ${h.user} to port ${h.port}: ${refusal.message}`);
        this.open.delete(socket);
        socket.destroy();
      }),
    );
  }
}
