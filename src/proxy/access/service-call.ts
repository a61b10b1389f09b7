/**
 * One JSON POST from the proxy to the service over loopback, authenticated with the
 * per-server secret. Bounded in time and in answer size: a service that hangs or babbles
 * must not hold a browser's request or the proxy's memory.
 */
import { signCall } from '../../protocol/challenge.js';
import { boundedCall, type CallAnswer } from './bounded-call.js';

const MAX_BODY = 16 * 1024;

export type ServiceAnswer = CallAnswer;

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
  return boundedCall(
    url,
    'POST',
    {
      authorization,
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
    },
    MAX_BODY,
    body,
  );
}
