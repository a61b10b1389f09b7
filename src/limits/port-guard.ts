import { execFile } from 'node:child_process';
import type { Logger } from 'pino';
import { HubappsError } from '../errors.js';
import type { Config } from '../config/schema.js';
import type { ServerRow } from '../model/server.js';
import {
  BIND_GUARD_FAILED,
  NOT_OWNERS_LISTENER,
  type ForwardEntry,
  type GuardEntry,
} from './port-guard-rules.js';

/**
 * The service's side of the port guard: tells the root helper which app port belongs to
 * which uid, so only the owner's sockets (its proxy among them) can connect. The rules
 * and what the helper may touch are fixed by root (src/ops/port-guard.ts).
 */
export interface PortGuard {
  /**
   * Before the app runs: only `uid` may connect to `port`. With `open` (the proxy of a
   * hub-started server, which the hub's CHP reaches over TCP) every local account may
   * connect, and only `uid` bind. Throws under `required` when that cannot be done.
   */
  allow(port: number, uid: number, open?: boolean): Promise<void>;
  /** After the server ended (`open` as it was allowed); never throws (a stop must not fail on it). */
  revoke(port: number, uid: number, open?: boolean): Promise<void>;
  /**
   * A forward of the owner's own program is open: only `uid` may connect to `port` over
   * loopback. True when guarded; false when the helper would not (the listener is not
   * only uid's, the port outside user_ports.ranges) or, under auto, could not. Throws
   * under `required` when the helper fails.
   */
  allowForward(port: number, uid: number): Promise<boolean>;
  /** The forward is forgotten, its server ended or its listener changed; never throws. */
  revokeForward(port: number, uid: number): Promise<void>;
  /** At start-up: exactly these entries and forwards, whatever an earlier run left. */
  sync(entries: GuardEntry[], forwards?: ForwardEntry[]): Promise<void>;
}

/** Runs the helper: resolves, or rejects with what it printed. */
export type HelperRunner = (args: string[]) => Promise<void>;

export interface PortGuardOptions {
  mode: 'auto' | 'required';
  run: HelperRunner;
  log: Logger;
  /** Under auto, how long a helper that failed is left alone before it is tried again. */
  retryAfterMs?: number;
}

/** The helper, through `sudo -n`, one call at a time (each is one nft transaction). */
export class HelperPortGuard implements PortGuard {
  private queue: Promise<unknown> = Promise.resolve();
  private restingUntil = 0;

  constructor(private readonly opts: PortGuardOptions) {}

  async allow(port: number, uid: number, open = false): Promise<void> {
    await this.call([open ? 'open' : 'allow', String(port), String(uid)], (why) => {
      if (this.opts.mode === 'required') {
        throw new HubappsError(
          'port_guard_failed',
          `could not keep other local users off this server's port ${port} (${why}); tell your admin to run 'hubapps doctor'`,
          { expose: true },
        );
      }
    });
  }

  async revoke(port: number, uid: number, open = false): Promise<void> {
    await this.call([open ? 'close' : 'revoke', String(port), String(uid)], () => undefined);
  }

  async allowForward(port: number, uid: number): Promise<boolean> {
    let guarded = true;
    await this.call(['forward', String(port), String(uid)], (why, refused) => {
      guarded = false;
      if (!refused && this.opts.mode === 'required') {
        throw new HubappsError(
          'port_guard_failed',
          `could not keep other local users off your port ${port} (${why}); tell your admin to run 'hubapps doctor'`,
          { expose: true },
        );
      }
    });
    return guarded;
  }

  async revokeForward(port: number, uid: number): Promise<void> {
    await this.call(['unforward', String(port), String(uid)], () => undefined);
  }

  async sync(entries: GuardEntry[], forwards: ForwardEntry[] = []): Promise<void> {
    await this.call(
      [
        'sync',
        ...entries.map((e) => `${e.port}:${e.uid ?? 'open'}`),
        ...forwards.map((f) => `fwd:${f.port}:${f.uid}`),
      ],
      () => undefined,
    );
  }

  /**
   * Run one call after the ones before it; a failure is logged, then handed to `failed`.
   * `refused`: the helper declined a forward (bad arguments, or a listener not the owner's);
   * it works, so it is not left to rest.
   */
  private call(args: string[], failed: (why: string, refused: boolean) => void): Promise<void> {
    const next = this.queue.then(async () => {
      if (this.opts.mode === 'auto' && Date.now() < this.restingUntil) return;
      try {
        await this.opts.run(args);
      } catch (err) {
        const why = (err as Error).message;
        // Connections are guarded; only binds are not: a start goes on under either mode, as refusing it would not make the host safer.
        if ((err as { status?: number }).status === BIND_GUARD_FAILED) {
          this.opts.log.warn(
            { why, op: args[0] },
            'port guard: the bind guard failed, so other local accounts can hold ports of port_range; see hubapps doctor',
          );
          return;
        }
        const status = (err as { status?: number }).status;
        if (args[0] === 'forward' && (status === NOT_OWNERS_LISTENER || status === 2)) {
          this.opts.log.info({ why, port: args[1] }, 'port guard: forward not guarded');
          failed(why, true);
          return;
        }
        if (this.opts.mode === 'auto') {
          this.restingUntil = Date.now() + (this.opts.retryAfterMs ?? 60_000);
          // Without the table every port is open; with one left from when the helper worked, a port it was not told about stays closed.
          this.opts.log.warn(
            { why, op: args[0] },
            'port guard: the helper failed; starts go on without it (port_guard.mode: auto), so apps may be open to every local account; see hubapps doctor',
          );
        } else {
          this.opts.log.error({ why, op: args[0] }, 'port guard: the helper failed');
        }
        failed(why, false);
      }
    });
    // eslint-disable-next-line no-restricted-syntax -- the queue only orders the helper's runs; the caller of `next` gets and logs its failure
    this.queue = next.catch(() => undefined);
    return next;
  }
}

/** `sudo -n HELPER ARGS`: the helper's own message when it fails, else sudo's. */
export function sudoHelper(sudo: string, helper: string, timeoutMs = 10_000): HelperRunner {
  return (args) =>
    new Promise((resolve, reject) => {
      execFile(
        sudo,
        ['-n', helper, ...args],
        { timeout: timeoutMs, env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' } },
        (err, _stdout, stderr) => {
          if (!err) return resolve();
          const text = String(stderr).trim().split('\n').at(-1);
          const status = typeof err.code === 'number' ? err.code : undefined;
          reject(Object.assign(new Error(text || err.message), { status }));
        },
      );
    });
}

/**
 * What the guard must hold for the servers a restart finds: each host server's app port for
 * its owner. A row whose proxy still listens on TCP (started before proxies moved to unix
 * sockets; `proxyOnTcp` asks the launcher, the only reader of its saved state) keeps its
 * port open to all: CHP reaches that proxy there, as another account.
 */
export async function guardEntries(
  rows: ServerRow[],
  uidOf: (user: string) => Promise<number>,
  proxyOnTcp: (row: ServerRow) => boolean,
): Promise<GuardEntry[]> {
  const entries: GuardEntry[] = [];
  for (const row of rows) {
    if (!row.port || row.launcher === 'slurm') continue;
    // A hub-started server: its proxy is reached over TCP as below, its app port is its owner's.
    if (row.app_port) {
      const uid = await uidOf(row.user).catch(() => null);
      if (uid !== null) entries.push({ port: row.app_port, uid });
    }
    if (proxyOnTcp(row)) {
      entries.push({ port: row.port, uid: null });
      continue;
    }
    const uid = await uidOf(row.user).catch(() => null);
    if (uid !== null) entries.push({ port: row.port, uid });
  }
  return entries;
}

/** The guard this configuration asks for: only the sudo launcher's servers belong to other accounts. */
export function openPortGuard(
  config: Pick<Config, 'launcher' | 'sudo_command' | 'port_guard'>,
  log: Logger,
): PortGuard | null {
  if (config.launcher !== 'sudo' || config.port_guard.mode === 'off') return null;
  return new HelperPortGuard({
    mode: config.port_guard.mode,
    run: sudoHelper(config.sudo_command, config.port_guard.command),
    log,
  });
}
