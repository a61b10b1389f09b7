import { lstatSync } from 'node:fs';
import http from 'node:http';
import { answerProven, PROOF_HEADER, signCall } from '../protocol/challenge.js';
import { PROXY_ENDPOINTS, type HealthReport, type PortListing } from '../protocol/wire.js';
import { listenerOwnedBy } from '../procfs/listeners.js';

/** Says whether the listener on a port is `uid`'s alone; ListenerOwners shares one /proc read between calls. */
export type OwnerCheck = (port: number, uid: number) => Promise<boolean>;

/**
 * HTTP calls from the service to a per-server proxy: on its unix socket, or over TCP on a
 * Slurm job's node. Before a call to a listener on this host, it must belong to the
 * server's Unix user (anyone else there is a squatter); the
 * call is signed with a fresh challenge over the server's secret, never the secret itself;
 * the answer is read up to MAX_ANSWER bytes and trusted only with the proxy's proof.
 * A dedicated keep-alive agent: readiness polling and reconcile passes call every proxy
 * often, and a fresh TCP handshake each time is wasted work.
 */
const agent = new http.Agent({ keepAlive: true, maxSockets: 4, timeout: 5000 });

/** A health report holds at most 200 short progress messages; anything much larger is not a proxy talking. */
export const MAX_ANSWER = 256 * 1024;

/** A proxy on this host, on its unix socket; the socket file must be `uid`'s. */
export interface SocketTarget {
  socket: string;
  secret: string;
  uid: number;
}

export type ProxyTarget = SocketTarget | TcpTarget;

export interface TcpTarget {
  /** Where the proxy listens: this host's loopback unless set (a Slurm job's node). */
  host?: string;
  port: number;
  secret: string;
  /** The uid the server runs as: the listener on `port` must be this user's. */
  uid: number;
  /**
   * 'local': the listener is on this host, so its owner is read from /proc/net/tcp before
   * each call and anyone else's listener gets no call. 'remote': it is on another host,
   * whose sockets this host cannot see; trust rests on the proxy's proof of the secret and
   * on the launcher's own check of where the server runs (for Slurm, the job's node as the
   * user's squeue reports it).
   */
  listener: 'local' | 'remote';
}

export type ProxyCallResult<T> =
  { ok: true; status: number; body: T } | { ok: false; error: string; status?: number };

/**
 * In the sticky socket directory nobody but its owner (and root) can remove or replace a
 * socket file, so a file that is the user's now is still theirs when the call connects.
 */
function socketOwnedBy(path: string, uid: number): boolean {
  try {
    const st = lstatSync(path);
    return st.isSocket() && st.uid === uid;
  } catch {
    return false;
  }
}

async function trusted(target: ProxyTarget, owner: OwnerCheck): Promise<string | null> {
  if ('socket' in target)
    return socketOwnedBy(target.socket, target.uid)
      ? null
      : `the socket ${target.socket} is missing or does not belong to uid ${target.uid}`;
  if (target.listener === 'local' && !(await owner(target.port, target.uid)))
    return `the listener on port ${target.port} does not belong to uid ${target.uid}`;
  return null;
}

async function call<T>(
  target: ProxyTarget,
  method: 'GET' | 'POST',
  path: string,
  timeoutMs: number,
  owner: OwnerCheck,
): Promise<ProxyCallResult<T>> {
  const distrust = await trusted(target, owner);
  if (distrust) return { ok: false, error: distrust };
  const signed = signCall(target.secret, method, path);
  const where =
    'socket' in target
      ? { socketPath: target.socket }
      : { host: target.host ?? '127.0.0.1', port: target.port };
  return new Promise((resolve) => {
    const req = http.request(
      {
        ...where,
        method,
        path,
        agent,
        headers: { authorization: signed.header },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_ANSWER) res.destroy(new Error(`answer larger than ${MAX_ANSWER} bytes`));
          else chunks.push(c);
        });
        res.on('end', () => {
          const bytes = Buffer.concat(chunks);
          const status = res.statusCode ?? 0;
          const proof = res.headers[PROOF_HEADER];
          if (
            !answerProven(
              target.secret,
              signed.nonce,
              status,
              bytes,
              typeof proof === 'string' ? proof : undefined,
            )
          ) {
            return resolve({
              ok: false,
              status,
              error: "the answer carries no valid proof from this server's proxy",
            });
          }
          if (status >= 300) return resolve({ ok: false, status, error: `HTTP ${status}` });
          try {
            resolve({
              ok: true,
              status,
              body: (bytes.length ? JSON.parse(bytes.toString('utf8')) : {}) as T,
            });
          } catch {
            resolve({ ok: false, status, error: 'not JSON' });
          }
        });
        res.on('error', (err) => resolve({ ok: false, error: err.message }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err: NodeJS.ErrnoException) =>
      resolve({ ok: false, error: err.code ?? err.message }),
    );
    req.end();
  });
}

/** `waitMs`: the proxy may hold the answer that long for news (HEALTH_MAX_WAIT_MS); the timeout grows by as much. */
export function fetchHealth(
  target: ProxyTarget,
  since = 0,
  owner: OwnerCheck = listenerOwnedBy,
  timeoutMs = 2000,
  waitMs = 0,
): Promise<ProxyCallResult<HealthReport>> {
  return call<HealthReport>(
    target,
    'GET',
    `${PROXY_ENDPOINTS.health}?since=${since}${waitMs > 0 ? `&wait=${waitMs}` : ''}`,
    timeoutMs + waitMs,
    owner,
  );
}

/** The ports the server's processes listen on now; a proxy older than this endpoint answers 404. */
export function fetchPorts(
  target: ProxyTarget,
  owner: OwnerCheck = listenerOwnedBy,
  timeoutMs = 2000,
): Promise<ProxyCallResult<PortListing>> {
  return call<PortListing>(target, 'GET', PROXY_ENDPOINTS.ports, timeoutMs, owner);
}

/** `routeRemoved`: CHP no longer routes to the proxy, so it may free its socket's path as it exits. */
export function requestShutdown(
  target: ProxyTarget,
  owner: OwnerCheck = listenerOwnedBy,
  timeoutMs = 2000,
  routeRemoved = false,
): Promise<ProxyCallResult<unknown>> {
  return call(
    target,
    'POST',
    `${PROXY_ENDPOINTS.shutdown}${routeRemoved ? '?route=removed' : ''}`,
    timeoutMs,
    owner,
  );
}
