/**
 * Challenge-response between the service and a proxy, so the per-server secret never
 * crosses the wire: whatever listens on a proxy's port (the proxy, or a local user who
 * took the port first) learns nothing it could reuse.
 *
 * The service picks a fresh nonce for every call and sends
 *   Authorization: HubappsHMAC ts=<ms>, nonce=<hex>, mac=<HMAC(secret, "request", method, path, ts, nonce)>
 * The proxy accepts a call only with a correct mac, a time within WINDOW_MS of its own
 * clock and a nonce it has not seen, so a captured header cannot be replayed. It answers
 * with X-Hubapps-Proof: HMAC(secret, "response", nonce, status, SHA-256(body)), which the
 * service checks before it trusts the answer: only the real proxy knows the secret.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const AUTH_SCHEME = 'HubappsHMAC';
export const PROOF_HEADER = 'x-hubapps-proof';
/** How far the two clocks (one host, so the same clock) and a slow call may be apart. */
export const WINDOW_MS = 60_000;
/** Nonces remembered for replay detection; at the readiness poll rate that is minutes of calls. */
const MAX_NONCES = 20_000;

function mac(secret: string, parts: readonly (string | number)[]): string {
  return createHmac('sha256', secret).update(parts.join('\n')).digest('hex');
}

function sameHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

export interface SignedCall {
  header: string;
  nonce: string;
}

/** The Authorization header for one call from the service; keep the nonce to check the proof. */
export function signCall(
  secret: string,
  method: string,
  path: string,
  now = Date.now(),
): SignedCall {
  const nonce = randomBytes(16).toString('hex');
  return {
    nonce,
    header: `${AUTH_SCHEME} ts=${now}, nonce=${nonce}, mac=${mac(secret, ['request', method, path, now, nonce])}`,
  };
}

/** The proof a proxy attaches to its answer to the call with `nonce`. */
export function proveAnswer(secret: string, nonce: string, status: number, body: Buffer): string {
  return mac(secret, ['response', nonce, status, createHash('sha256').update(body).digest('hex')]);
}

/** Did the proxy that knows `secret` write this answer to the call with `nonce`? */
export function answerProven(
  secret: string,
  nonce: string,
  status: number,
  body: Buffer,
  proof: string | undefined,
): boolean {
  return proof !== undefined && sameHex(proof, proveAnswer(secret, nonce, status, body));
}

/** The proxy's side: checks each call's header and refuses replays. */
export class CallVerifier {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly secret: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** The call's nonce when the header is valid, fresh and not seen before; otherwise undefined. */
  verify(method: string, path: string, header: string | undefined): string | undefined {
    const m = /^HubappsHMAC ts=(\d{1,16}), nonce=([0-9a-f]{32}), mac=([0-9a-f]{64})$/.exec(
      header ?? '',
    );
    if (!m) return undefined;
    const [, tsText, nonce, got] = m as unknown as [string, string, string, string];
    const ts = Number(tsText);
    const now = this.now();
    if (Math.abs(now - ts) > WINDOW_MS) return undefined;
    if (!sameHex(got, mac(this.secret, ['request', method, path, ts, nonce]))) return undefined;
    this.forgetOld(now);
    if (this.seen.has(nonce)) return undefined;
    if (this.seen.size >= MAX_NONCES) return undefined;
    this.seen.set(nonce, ts);
    return nonce;
  }

  private forgetOld(now: number): void {
    // Map order is insertion order, which is close to ts order: stop at the first fresh one.
    for (const [nonce, ts] of this.seen) {
      if (now - ts <= WINDOW_MS) break;
      this.seen.delete(nonce);
    }
  }
}
