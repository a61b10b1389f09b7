/**
 * One JSON POST from the proxy to the service over loopback, authenticated with the
 * per-server secret. Bounded in time and in answer size: a service that hangs or babbles
 * must not hold a browser's request or the proxy's memory.
 */
import { request } from 'node:http';
import { signCall } from '../../protocol/challenge.js';

const CALL_TIMEOUT_MS = 5000;
const MAX_BODY = 16 * 1024;

export interface ServiceAnswer {
  status: number;
  body: string;
}

/**
 * Rejects when the service cannot be reached or does not answer in time; any HTTP status
 * resolves. `signed`: the call proves the secret with a fresh challenge instead of carrying
 * it (a call from a compute node, over the cluster network).
 */
export function postToService(
  url: URL,
  secret: string,
  payload: unknown,
  signed = false,
): Promise<ServiceAnswer> {
  const body = JSON.stringify(payload);
  const authorization = signed ? signCall(secret, 'POST', url.pathname).header : `Bearer ${secret}`;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        timeout: CALL_TIMEOUT_MS,
        headers: {
          authorization,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_BODY) res.destroy(new Error('answer too large'));
          else chunks.push(c);
        });
        res.once('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.once('error', reject);
      },
    );
    req.once('timeout', () =>
      req.destroy(Object.assign(new Error('no answer in time'), { code: 'ETIMEDOUT' })),
    );
    req.once('error', reject);
    req.end(body);
  });
}
