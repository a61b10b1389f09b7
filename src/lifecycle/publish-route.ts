import { setTimeout as sleep } from 'node:timers/promises';
import type { HubappsRouteData } from '../chp/route-table.js';
import { HubappsError } from '../errors.js';
import type { LifecycleDeps } from './deps.js';

/** CHP errors that a moment later may not happen again: it did not answer in time, or answered with an error. */
const TRANSIENT = new Set(['chp_unreachable', 'chp_error']);
const ATTEMPTS = 3;
const PAUSE_MS = 1000;

/**
 * The route of a server that is ready. A CHP that stalls under a burst of starts (seen: one
 * that did not answer for 10 s while 100 servers started at once) must not cost a user the
 * app that is already running: the route is tried again, a few times, before the start fails.
 * A foreign route or a refused token fails at once: trying again would change nothing.
 */
export async function addServerRoute(
  deps: LifecycleDeps,
  route: string,
  target: string,
  data: HubappsRouteData,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await deps.serverRoutes.add(route, target, data);
    } catch (err) {
      if (!(err instanceof HubappsError) || !TRANSIENT.has(err.code) || attempt >= ATTEMPTS)
        throw err;
      deps.log.warn(
        { route, attempt, err: err.message },
        "adding a ready server's route failed; trying again",
      );
      await sleep(PAUSE_MS);
    }
  }
}
