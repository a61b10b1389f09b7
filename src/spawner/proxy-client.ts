import http from 'node:http';
import { answerProven, PROOF_HEADER, signCall } from '../protocol/challenge.js';
import { PROXY_ENDPOINTS, type HealthReport } from '../protocol/wire.js';
import { listenerOwnedBy } from '../procfs/listeners.js';

/** Says whether the listener on a port is `uid`'s alone; ListenerOwners shares one /proc read between calls. */
export type OwnerCheck = (port: number, uid: number) => Promise<boolean>;

/**
 * HTTP calls from the service to a per-server proxy, on loopback or on a Slurm job's node.
 * Before a call to a listener on this host, it must belong to the server's Unix user
 * (anyone else there is a squatter); the
 * call is signed with a fresh challenge over the server's secret, never the secret itself;
 * the answer is read up to MAX_ANSWER bytes and trusted only with the proxy's proof.
 * A dedicated keep-alive agent: readiness polling and reconcile passes call every proxy
 * often, and a fresh TCP handshake each time is wasted work.
 */
const agent = new http.Agent({ keepAlive: true, maxSockets: 4, timeout: 5000 });

/** A health report holds at most 200 short progress messages; anything much larger is not a proxy talking. */
export const MAX_ANSWER = 256 * 1024;

export interface ProxyTarget {
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

export type ProxyCallResult<T> = { ok: true; status: number; body: T } | { ok: false; error: string; status?: number };

async function call<T>(target: ProxyTarget, method: 'GET' | 'POST', path: string, timeoutMs: number, owner: OwnerCheck): Promise<ProxyCallResult<T>> {
  if (target.listener === 'local' && !(await owner(target.port, target.uid))) {
    return { ok: false, error: `the listener on port ${target.port} does not belong to uid ${target.uid}` };
  }
  const signed = signCall(target.secret, method, path);
  return new Promise((resolve) => {
    const req = http.request(
      { host: target.host ?? '127.0.0.1', port: target.port, method, path, agent, headers: { authorization: signed.header }, timeout: timeoutMs },
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
          if (!answerProven(target.secret, signed.nonce, status, bytes, typeof proof === 'string' ? proof : undefined)) {
            return resolve({ ok: false, status, error: 'the answer carries no valid proof from this server\'s proxy' });
          }
          if (status >= 300) return resolve({ ok: false, status, error: `HTTP ${status}` });
          try {
            resolve({ ok: true, status, body: (bytes.length ? JSON.parse(bytes.toString('utf8')) : {}) as T });
          } catch {
            resolve({ ok: false, status, error: 'not JSON' });
          }
        });
        res.on('error', (err) => resolve({ ok: false, error: err.message }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ ok: false, error: err.code ?? err.message }));
    req.end();
  });
}

export function fetchHealth(target: ProxyTarget, since = 0, owner: OwnerCheck = listenerOwnedBy, timeoutMs = 2000): Promise<ProxyCallResult<HealthReport>> {
  return call<HealthReport>(target, 'GET', `${PROXY_ENDPOINTS.health}?since=${since}`, timeoutMs, owner);
}

export function requestShutdown(target: ProxyTarget, owner: OwnerCheck = listenerOwnedBy, timeoutMs = 2000): Promise<ProxyCallResult<unknown>> {
  return call(target, 'POST', PROXY_ENDPOINTS.shutdown, timeoutMs, owner);
}
