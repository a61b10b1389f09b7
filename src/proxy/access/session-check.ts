/**
 * Re-validating browser sessions with the service: "is the launcher session behind this
 * proxy cookie still allowed on my server?" (POST SessionCheckRequest to
 * {serviceUrl}api/internal/session-check with the per-server secret). A proxy cookie is
 * only as good as the launcher session that granted it: logout, removal from the allowed
 * group or from admin end it within REVALIDATE_MS. Concurrent checks of one session
 * share one call.
 */
import { SERVICE_SESSION_CHECK_PATH, type SessionCheckRequest } from '../../protocol/wire.js';
import { describeError, log } from '../log.js';
import { postToService } from './service-call.js';

export type SessionVerdict = 'valid' | 'ended' | 'unavailable';

/** How long a checked session is trusted before the service is asked again. */
export const REVALIDATE_MS = 60_000;

export interface SessionCheckOptions {
  serverId: number;
  secret: string;
  serviceUrl: string;
}

export class SessionChecker {
  private readonly url: URL;
  private readonly inFlight = new Map<string, Promise<SessionVerdict>>();

  constructor(private readonly opts: SessionCheckOptions) {
    this.url = new URL(SERVICE_SESSION_CHECK_PATH, opts.serviceUrl);
  }

  check(session: string): Promise<SessionVerdict> {
    let pending = this.inFlight.get(session);
    if (!pending) {
      pending = this.ask(session).finally(() => this.inFlight.delete(session));
      this.inFlight.set(session, pending);
    }
    return pending;
  }

  private async ask(session: string): Promise<SessionVerdict> {
    try {
      const answer = await postToService(this.url, this.opts.secret, {
        serverId: this.opts.serverId,
        session,
      } satisfies SessionCheckRequest);
      if (answer.status === 200) return 'valid';
      if (answer.status === 401 || answer.status === 403) return 'ended';
      log(`session check: unexpected answer from the service (HTTP ${answer.status})`);
    } catch (err) {
      log(`session check: service unreachable: ${describeError(err)}`);
    }
    return 'unavailable';
  }
}
