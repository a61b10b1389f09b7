/**
 * The OAuth `state` of a sign-in at the hub, bound to the browser that started it: the
 * proxy sends the browser to the hub with a random state and sets a short-lived cookie
 * holding that state and the page the browser wanted; the callback takes the code only
 * when the state that comes back equals the cookie's. The cookie is sealed with a key
 * that lives in this proxy's memory alone, so a page that can toss cookies onto the
 * server's path (another app on the shared origin) cannot make one the proxy accepts, and
 * nothing is stored per sign-in, so navigations cannot fill the proxy's memory. Each
 * sign-in has a cookie of its own, named with the start of its state, so tabs that sign in
 * at the same time (a browser restoring several pages of the server) do not undo each other.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** A sign-in outlives the round trip through the hub (and a login there) by a margin. */
export const STATE_MAX_AGE_S = 600;
/** Named with the server id (each server's sign-in is its own) and the state's first characters. */
export const STATE_COOKIE = 'hubapps-hub-state-';
const STATE = /^[A-Za-z0-9_-]{43}$/;
const NAMED_BY = 12;

export class HubStates {
  /** hubapps-hub-state-ID: every sign-in's cookie name starts with it. */
  readonly name: string;
  private readonly attributes: string;
  private readonly key = randomBytes(32);

  /** `path`: the callback path, the only place the cookie is sent to. */
  constructor(serverId: number, path: string, secure: boolean) {
    this.name = `${STATE_COOKIE}${serverId}`;
    this.attributes = `; Path=${path}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
  }

  /** A fresh state for a sign-in that should end at `next`, and the Set-Cookie that binds it to this browser. */
  issue(next: string, now = Date.now()): { state: string; setCookie: string } {
    const state = randomBytes(32).toString('base64url');
    const body = `${state}.${Math.floor(now / 1000)}.${Buffer.from(next).toString('base64url')}`;
    const value = `${body}.${this.seal(body)}`;
    const setCookie = `${this.name}-${state.slice(0, NAMED_BY)}=${value}${this.attributes}; Max-Age=${STATE_MAX_AGE_S}`;
    return { state, setCookie };
  }

  /** The page the sign-in was for, when `state` is the one sealed in the cookie `value` and still fresh; null otherwise. */
  check(value: string, state: string, now = Date.now()): string | null {
    const parts = value.split('.');
    if (parts.length !== 4) return null;
    const [sealed, issued, next, mac] = parts as [string, string, string, string];
    const expected = Buffer.from(this.seal(`${sealed}.${issued}.${next}`));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    const age = now / 1000 - Number(issued);
    if (!(age >= 0 && age <= STATE_MAX_AGE_S)) return null;
    const a = Buffer.from(sealed);
    const b = Buffer.from(state);
    if (a.length !== b.length || !timingSafeEqual(a, b)) return null;
    return Buffer.from(next, 'base64url').toString('utf8');
  }

  /** The name of the cookie of the sign-in with this state; null for anything unlike a state. */
  cookieName(state: string): string | null {
    return STATE.test(state) ? `${this.name}-${state.slice(0, NAMED_BY)}` : null;
  }

  /** The Set-Cookie that removes a sign-in's cookie (a sign-in is used once). */
  clear(name: string): string {
    return `${name}=${this.attributes}; Max-Age=0`;
  }

  private seal(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url');
  }
}
