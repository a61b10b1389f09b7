import { hashSecret } from '../../src/secret-hash.js';
/**
 * Tools for the cross-user probes (scenario 8): a stack with servers of alice and bob
 * running the echo app, their credentials, the grant flow step by step, WebSocket
 * handshakes, and the servers' logs, which show whether a request ever reached an app.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import WebSocket from 'ws';
import { waitFor } from '../helpers/wait.js';
import { TEST_USERS } from '../system/harness.js';
import type { SystemStack, StoredServer } from '../system/system-stack.js';
import { addReliabilityApps, raw, sessionFor, tokenFor, type RawAnswer } from './support.js';

const { alice, bob } = TEST_USERS;

export interface ProbeWorld {
  /** alice's two servers and bob's one, all running the echo app. */
  a: StoredServer;
  a2: StoredServer;
  b: StoredServer;
  aliceToken: string;
  bobToken: string;
  aliceSession: string;
  bobSession: string;
}

export async function setUpProbeWorld(stack: SystemStack): Promise<ProbeWorld> {
  await stack.setUp();
  await addReliabilityApps(stack);
  return {
    a: await stack.startServer(alice, 'a', 'echo'),
    a2: await stack.startServer(alice, 'a2', 'echo'),
    b: await stack.startServer(bob, 'b', 'echo'),
    aliceToken: await tokenFor(stack, alice),
    bobToken: await tokenFor(stack, bob),
    aliceSession: await sessionFor(stack, alice),
    bobSession: await sessionFor(stack, bob),
  };
}

/** A path segment no request has used before: finding it in an app's log proves the request got there. */
export function marker(): string {
  return `probe-${randomBytes(6).toString('hex')}`;
}

/** Did the echo app of user/name log a request containing `needle`? */
export function appSaw(stack: SystemStack, user: string, name: string, needle: string): boolean {
  return readFileSync(join(stack.stateDir, 'logs', `${user}@${name}.log`), 'utf8').includes(needle);
}

/**
 * For the allowed cases: the app's line reaches its log through the proxy's pipe a moment
 * after the answer reached the client, so it is waited for (up to 5 s), not read at once.
 */
export async function appSees(
  stack: SystemStack,
  user: string,
  name: string,
  needle: string,
): Promise<void> {
  await waitFor(() => appSaw(stack, user, name, needle), {
    timeout: 5000,
    what: `${needle} in the log of ${user}/${name}`,
  });
}

/** A request to CHP's public port with the path sent as it is. */
export function viaChpRaw(
  stack: SystemStack,
  path: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<RawAnswer> {
  return raw(stack.chp!.port, path, { headers, method });
}

/** Ask the service's authorize page for a grant to user/name with a launcher session; the answer's Location holds the code. */
export async function authorize(
  stack: SystemStack,
  session: string,
  user: string,
  name: string,
  next?: string,
  headers: Record<string, string> = {},
): Promise<RawAnswer> {
  const q = new URLSearchParams({
    user,
    server: name,
    binding: hashSecret(GRANT_NONCE),
    ...(next === undefined ? {} : { next }),
  });
  return raw(stack.port, `/services/hubapps/authorize?${q}`, {
    headers: { cookie: session, accept: 'text/html', ...headers },
  });
}

/** The one-time code in an authorize redirect. */
export function codeOf(answer: RawAnswer): string {
  const location = answer.headers.location ?? '';
  const code = new URL(location, 'http://x').searchParams.get('code');
  if (answer.status !== 302 || !code)
    throw new Error(`authorize answered ${answer.status} ${location} ${answer.body.slice(0, 200)}`);
  return code;
}

/** Bring a code to a server's grant endpoint through CHP, as the browser does after the redirect. */
export function redeemAt(
  stack: SystemStack,
  user: string,
  name: string,
  code: string,
): Promise<RawAnswer> {
  const db = new Database(stack.dbFile, { readonly: true, fileMustExist: true });
  let id: number;
  try {
    id = db
      .prepare('SELECT id FROM servers WHERE user = ? AND name = ?')
      .pluck()
      .get(user, name) as number;
  } finally {
    db.close();
  }
  return viaChpRaw(stack, `/apps/${user}/${name}/_hubapps/grant?code=${encodeURIComponent(code)}`, {
    accept: 'text/html',
    cookie: `hubapps-grant-${id}=${GRANT_NONCE}`,
  });
}

/** The grant cookie of the probes' "browser": authorize gets its hash, redemption brings the value. */
export const GRANT_NONCE = 'p'.repeat(43);

/** Run one write against the service's database as root (the service keeps it open; SQLite locks between processes). */
export function writeDb(stack: SystemStack, sql: string, ...args: unknown[]): number {
  const db = new Database(stack.dbFile, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    return db.prepare(sql).run(...args).changes;
  } finally {
    db.close();
  }
}

export function countRows(stack: SystemStack, table: 'codes' | 'tokens' | 'sessions'): number {
  const db = new Database(stack.dbFile, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(`SELECT COUNT(*) FROM ${table}`).pluck().get() as number;
  } finally {
    db.close();
  }
}

export interface WsOutcome {
  opened: boolean;
  status: number;
  headers: Record<string, string | string[] | undefined>;
}

/** A WebSocket handshake through CHP: did it open, and with what status and headers did it answer? */
export function wsHandshake(
  stack: SystemStack,
  path: string,
  headers: Record<string, string>,
  origin?: string,
): Promise<WsOutcome> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${stack.chp!.port}${path}`, {
      headers,
      origin,
      handshakeTimeout: 5000,
    });
    ws.on('upgrade', (res) => {
      resolve({ opened: true, status: res.statusCode ?? 0, headers: res.headers });
      ws.terminate();
    });
    ws.on('unexpected-response', (_req, res) => {
      resolve({ opened: false, status: res.statusCode ?? 0, headers: res.headers });
      res.resume();
      ws.terminate();
    });
    ws.on('error', (err) => reject(err));
  });
}
