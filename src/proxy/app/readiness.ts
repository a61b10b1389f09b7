/**
 * Waiting until the app answers: an HTTP GET below its base path until the status is low
 * enough, or (kind 'tcp') until its port or socket accepts a connection. A unix socket's
 * directory is watched, so the attempt follows the socket's creation at once; otherwise
 * the proxy polls, every 5 ms for the first half second (a refused loopback connection
 * costs next to nothing, and most apps are ready by then: each poll step is a delay the
 * user waits for, docs/benchmarks.md), then backing off to 500 ms so slow apps are not
 * hammered. These polls go straight to the app and never count as activity. A loopback
 * port counts only while every listener on it is the proxy's own user's: another local
 * user who bound the app's port first would otherwise receive the owner's browser traffic.
 */
import { watch, type FSWatcher } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import { listenerOwnedBy } from '../../procfs/listeners.js';
import type { AppTarget } from './launch-plan.js';

export interface ReadinessCheck {
  target: AppTarget;
  kind: 'http' | 'tcp';
  /** Full path to GET (already including the prefix when the app is not stripped). */
  path: string;
  statusBelow: number;
  timeoutMs: number;
}

export type ReadinessResult = 'ready' | 'timeout' | 'aborted';

const FAST_DELAY = 5;
const FAST_FOR = 500;
const MAX_DELAY = 500;
const ATTEMPT_TIMEOUT = 5000;
const STILL_WAITING_EVERY = 10_000;

export async function waitReady(
  check: ReadinessCheck,
  signal: AbortSignal,
  progress: (message: string) => void,
  uid = process.getuid!(),
): Promise<ReadinessResult> {
  const started = Date.now();
  const deadline = started + check.timeoutMs;
  let wait = FAST_DELAY;
  let nextNote = started + STILL_WAITING_EVERY;
  let squatted = false;
  const waker = new Waker('socket' in check.target ? check.target.socket : null);
  try {
    while (!signal.aborted) {
      const left = deadline - Date.now();
      if (left <= 0) return 'timeout';
      if (await attempt(check, Math.min(left, ATTEMPT_TIMEOUT))) {
        if (await ours(check.target, uid)) return signal.aborted ? 'aborted' : 'ready';
        if (!squatted)
          progress(
            `${describeTarget(check.target)} is held by another user's program: not routing to it`,
          );
        squatted = true;
      }
      if (Date.now() >= nextNote) {
        progress(
          `still waiting for ${describeTarget(check.target)} (${Math.round((Date.now() - started) / 1000)} s)`,
        );
        nextNote += STILL_WAITING_EVERY;
      }
      if (!(await waker.sleep(Math.min(wait, Math.max(0, deadline - Date.now())), signal)))
        return 'aborted';
      if (Date.now() - started >= FAST_FOR) wait = Math.min(Math.max(wait, 10) * 1.5, MAX_DELAY);
    }
    return 'aborted';
  } finally {
    waker.close();
  }
}

/**
 * Sleeps between attempts; for a unix socket also wakes when an entry of the socket's
 * directory changes (the app created its socket). Without a directory to watch, it only
 * sleeps.
 */
class Waker {
  private watcher: FSWatcher | null = null;
  private wake: (() => void) | null = null;

  constructor(socket: string | null) {
    if (!socket) return;
    try {
      this.watcher = watch(dirname(socket), { persistent: false }, () => this.wake?.());
      this.watcher.on('error', () => this.close());
    } catch {
      this.watcher = null;
    }
  }

  /** false when `signal` aborted the sleep. */
  sleep(ms: number, signal: AbortSignal): Promise<boolean> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve(false);
      const done = (ok: boolean) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.wake = null;
        resolve(ok);
      };
      const onAbort = () => done(false);
      const timer = setTimeout(() => done(true), ms);
      signal.addEventListener('abort', onAbort, { once: true });
      this.wake = () => done(true);
    });
  }

  close(): void {
    this.watcher?.close();
    this.watcher = null;
  }
}

export function describeTarget(target: AppTarget): string {
  return 'port' in target ? `port ${target.port}` : `socket ${target.socket}`;
}

/** A unix socket sits in the user's 0700 directory; a port must be held by `uid` alone. */
async function ours(target: AppTarget, uid: number): Promise<boolean> {
  return 'port' in target ? listenerOwnedBy(target.port, uid) : true;
}

function attempt(check: ReadinessCheck, timeoutMs: number): Promise<boolean> {
  return check.kind === 'tcp' ? tcpAttempt(check.target, timeoutMs) : httpAttempt(check, timeoutMs);
}

function tcpAttempt(target: AppTarget, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock =
      'port' in target
        ? connect({ host: '127.0.0.1', port: target.port })
        : connect({ path: target.socket });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

function httpAttempt(check: ReadinessCheck, timeoutMs: number): Promise<boolean> {
  const where =
    'port' in check.target
      ? { host: '127.0.0.1', port: check.target.port }
      : { socketPath: check.target.socket };
  return new Promise((resolve) => {
    const req = request(
      {
        ...where,
        path: check.path,
        method: 'GET',
        agent: false,
        timeout: timeoutMs,
        headers: { 'user-agent': 'hubapps-proxy readiness' },
      },
      (res) => {
        res.resume();
        resolve((res.statusCode ?? 600) < check.statusBelow);
      },
    );
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(false));
    req.end();
  });
}
