import http from 'node:http';
import { PROXY_ENDPOINTS, type HealthReport } from '../proxy/protocol.js';

/**
 * Loopback HTTP calls from the service to a per-server proxy, authenticated with the
 * server's secret. A dedicated keep-alive agent: readiness polling and reconcile passes
 * call every proxy often, and a fresh TCP handshake each time is wasted work.
 */
const agent = new http.Agent({ keepAlive: true, maxSockets: 4, timeout: 5000 });

export type ProxyCallResult<T> = { ok: true; status: number; body: T } | { ok: false; error: string; status?: number };

function call<T>(port: number, secret: string, method: 'GET' | 'POST', path: string, timeoutMs: number, host: string): Promise<ProxyCallResult<T>> {
  return new Promise((resolve) => {
    const req = http.request(
      { host, port, method, path, agent, headers: { authorization: `Bearer ${secret}` }, timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          if (status >= 300) return resolve({ ok: false, status, error: `HTTP ${status}` });
          try {
            resolve({ ok: true, status, body: (text ? JSON.parse(text) : {}) as T });
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

/** `host` is loopback except for a proxy on a compute node (the Slurm launcher). */
export function fetchHealth(port: number, secret: string, since = 0, timeoutMs = 2000, host = '127.0.0.1'): Promise<ProxyCallResult<HealthReport>> {
  return call<HealthReport>(port, secret, 'GET', `${PROXY_ENDPOINTS.health}?since=${since}`, timeoutMs, host);
}

export function requestShutdown(port: number, secret: string, timeoutMs = 2000, host = '127.0.0.1'): Promise<ProxyCallResult<unknown>> {
  return call(port, secret, 'POST', PROXY_ENDPOINTS.shutdown, timeoutMs, host);
}
