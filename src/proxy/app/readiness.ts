/**
 * Waiting until the app answers: an HTTP GET below its base path until the status is low
 * enough, or (kind 'tcp') until its port or socket accepts a connection. Polls every
 * 10 ms at first, backing off to 500 ms, so fast apps are routed quickly and slow ones
 * are not hammered: a refused connection costs next to nothing, and 50 ms first steps
 * added ~40 ms to the start of an app ready in 20 ms (docs/benchmarks.md). These polls
 * go straight to the app and never count as activity. A loopback port counts only while
 * every listener on it is the proxy's own user's: another local user who bound the app's
 * port first would otherwise receive the owner's browser traffic.
 */
import { request } from 'node:http';
import { connect } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
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

const FIRST_DELAY = 10;
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
  let wait = FIRST_DELAY;
  let nextNote = started + STILL_WAITING_EVERY;
  let squatted = false;
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
    try {
      await delay(Math.min(wait, Math.max(0, deadline - Date.now())), undefined, { signal });
    } catch {
      return 'aborted';
    }
    wait = Math.min(wait * 1.5, MAX_DELAY);
  }
  return 'aborted';
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
