/**
 * May this user use this port? The service's answer to PortAccessRequest (POST
 * {serviceUrl}api/internal/port-access, signed with the secret as announce is), which
 * applies the admin's policy, the per-user cap on open forwards, the owner's per-port share
 * and admin_access. A yes is cached per (user, port, kind) for min(ttl, revalidateMs); a no
 * is not cached (the owner may share the port a moment later). A service that cannot be
 * asked opens nothing: 503.
 */
import type { PortKind } from '../../port-label.js';
import {
  SERVICE_PORT_ACCESS_PATH,
  type PortAccessAnswer,
  type PortAccessRequest,
} from '../../protocol/wire.js';
import { postToService, type ServiceAnswer } from '../access/service-call.js';
import { describeError, log } from '../log.js';
import type { Refusal } from './policy.js';

const MAX_CACHE = 1000;

export interface PortAccessOptions {
  serverId: number;
  secret: string;
  serviceUrl: string;
  /** The longest a yes is trusted (the session re-validation interval). */
  revalidateMs: number;
  /** POSTs one call; postToService unless a test says otherwise. */
  post?: (url: URL, secret: string, body: unknown, signed: boolean) => Promise<ServiceAnswer>;
}

export class PortAccess {
  private readonly url: URL;
  private readonly cache = new Map<string, number>();
  private readonly inFlight = new Map<string, Promise<Refusal | null>>();
  private readonly post: NonNullable<PortAccessOptions['post']>;

  constructor(private readonly opts: PortAccessOptions) {
    this.url = new URL(SERVICE_PORT_ACCESS_PATH, opts.serviceUrl);
    this.post = opts.post ?? postToService;
  }

  /** null: allowed; synchronous while a cached yes is fresh. */
  check(user: string, port: number, kind: PortKind): Refusal | null | Promise<Refusal | null> {
    const key = `${user}\n${port}\n${kind}`;
    const until = this.cache.get(key);
    if (until !== undefined && until > Date.now()) return null;
    if (until !== undefined) this.cache.delete(key);
    let pending = this.inFlight.get(key);
    if (pending === undefined) {
      pending = this.ask({ serverId: this.opts.serverId, user, port, kind }, key).finally(() =>
        this.inFlight.delete(key),
      );
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  private async ask(body: PortAccessRequest, key: string): Promise<Refusal | null> {
    let answer: ServiceAnswer;
    try {
      answer = await this.post(this.url, this.opts.secret, body, true);
    } catch (err) {
      log(`port access: service unreachable: ${describeError(err)}`);
      return UNAVAILABLE;
    }
    if (answer.status === 200) {
      const ttl = ttlOf(answer.body);
      const ms = Math.min(ttl * 1000, this.opts.revalidateMs);
      if (ms > 0) this.remember(key, Date.now() + ms);
      return null;
    }
    if (answer.status === 403 || answer.status === 409 || answer.status === 404)
      return { status: answer.status, message: messageOf(answer.body, body) };
    log(`port access: unexpected answer from the service (HTTP ${answer.status})`);
    return UNAVAILABLE;
  }

  private remember(key: string, until: number): void {
    for (const oldest of this.cache.keys()) {
      if (this.cache.size < MAX_CACHE) break;
      this.cache.delete(oldest);
    }
    this.cache.set(key, until);
  }
}

const UNAVAILABLE: Refusal = {
  status: 503,
  message:
    'cannot check access to this port right now: the hubapps service does not answer; try again shortly',
};

function ttlOf(text: string): number {
  try {
    const ttl = (JSON.parse(text) as Partial<PortAccessAnswer>).ttl;
    return typeof ttl === 'number' && Number.isFinite(ttl) && ttl > 0 ? ttl : 0;
  } catch {
    return 0;
  }
}

/** The service's own message (it names the reason), or a plain one; never more than a line. */
function messageOf(text: string, req: PortAccessRequest): string {
  try {
    const message = (JSON.parse(text) as { message?: unknown }).message;
    if (typeof message === 'string' && message !== '') return message.slice(0, 300);
  } catch {
    // not JSON: the plain message below
  }
  return `${req.user} may not use port ${req.port} of this server`;
}
