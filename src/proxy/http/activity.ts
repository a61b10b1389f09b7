/**
 * The time of the last real client traffic: a proxied request or a WebSocket frame in
 * either direction. Health polls and readiness polls never touch it, so the idle culler
 * sees what users do, not what hubapps does. `touch` is on the hot path: one assignment.
 */
export class Activity {
  private last = 0;

  readonly touch = (): void => {
    this.last = Date.now();
  };

  /** ISO time of the last activity, or null if there was none. */
  lastIso(): string | null {
    return this.last === 0 ? null : new Date(this.last).toISOString();
  }
}
