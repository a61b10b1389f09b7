/**
 * Is the program on a port the owner's, right now? Before a request goes to a port, every
 * loopback listener on it must have the owner's uid (any local account may bind a port the
 * owner's program has freed), and for a port of the `server` kind one of them must be held
 * by a process carrying this server's marks (app/marks.ts). The reading of /proc is shared
 * by the requests of a short window, so a busy dashboard costs one read per window.
 */
import type { PortKind } from '../../port-label.js';
import { readListeners, type Listener } from '../../procfs/listeners.js';
import { markedProcesses } from '../../procfs/processes.js';
import { heldByAny } from '../../procfs/socket-holders.js';
import type { Refusal } from './policy.js';

export interface ListenerFacts {
  /** Loopback listeners on a port (procfs/listeners.ts). */
  listeners(port: number): Promise<Listener[]>;
  /** Pids of this server's processes. */
  serverPids(): number[];
  /** Does one of `pids` hold one of `inodes`? */
  held(inodes: ReadonlySet<string>, pids: readonly number[]): boolean;
}

export interface OwnerInfo {
  owner: string;
  server: string;
  uid: number;
}

/** null: go ahead; otherwise what to tell the visitor. */
export async function checkListener(
  port: number,
  kind: PortKind,
  who: OwnerInfo,
  facts: ListenerFacts,
): Promise<Refusal | null> {
  const listeners = await facts.listeners(port);
  const where = placeOf(kind, who);
  if (listeners.length === 0) return nothingListens(port, kind, who);
  if (listeners.some((l) => l.uid !== who.uid))
    return { status: 403, message: `port ${port} is held by another account` };
  if (kind === 'server' && !facts.held(new Set(listeners.map((l) => l.inode)), facts.serverPids()))
    return {
      status: 404,
      message: `nothing ${where} listens on port ${port}: the program on it was not started from this server (a port opened elsewhere is host-ports/${port}/)`,
    };
  return null;
}

/** The refusal for a port nobody listens on (any more). */
export function nothingListens(port: number, kind: PortKind, who: OwnerInfo): Refusal {
  return { status: 404, message: `nothing listens on port ${port} ${placeOf(kind, who)} any more` };
}

function placeOf(kind: PortKind, who: OwnerInfo): string {
  return kind === 'server'
    ? `in ${who.owner}'s server '${who.server}'`
    : `for ${who.owner} on this host`;
}

/** The facts from /proc, each read at most once per `windowMs`. */
export class ProcListenerFacts implements ListenerFacts {
  private table: { at: number; value: Promise<Map<number, Listener[]>> } | undefined;
  private pids: { at: number; value: number[] } | undefined;

  constructor(
    private readonly marks: Record<string, string>,
    private readonly windowMs = 250,
  ) {}

  async listeners(port: number): Promise<Listener[]> {
    const now = performance.now();
    if (this.table === undefined || now - this.table.at > this.windowMs)
      this.table = { at: now, value: readListeners() };
    return (await this.table.value).get(port) ?? [];
  }

  serverPids(): number[] {
    const now = performance.now();
    if (this.pids === undefined || now - this.pids.at > this.windowMs)
      this.pids = { at: now, value: markedProcesses(this.marks) };
    return this.pids.value;
  }

  held(inodes: ReadonlySet<string>, pids: readonly number[]): boolean {
    return heldByAny(inodes, pids);
  }
}
