/**
 * One HTTP call from the proxy (to the service, or to the hub), bounded in time and in
 * answer size: a peer that hangs or babbles must not hold a browser's request or the
 * proxy's memory. Rejects when the peer cannot be reached or does not answer in time;
 * any HTTP status resolves.
 */
import { request as httpRequest, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';

const CALL_TIMEOUT_MS = 5000;

export interface CallAnswer {
  status: number;
  body: string;
}

export function boundedCall(
  url: URL,
  method: 'GET' | 'POST',
  headers: OutgoingHttpHeaders,
  maxBody: number,
  body?: string,
): Promise<CallAnswer> {
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(url, { method, timeout: CALL_TIMEOUT_MS, headers }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > maxBody) res.destroy(new Error('answer too large'));
        else chunks.push(c);
      });
      res.once('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.once('error', reject);
    });
    req.once('timeout', () =>
      req.destroy(Object.assign(new Error('no answer in time'), { code: 'ETIMEDOUT' })),
    );
    req.once('error', reject);
    req.end(body);
  });
}
