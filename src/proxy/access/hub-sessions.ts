/**
 * The browser sessions of a hub server's proxy, in memory only (a restarted proxy sends
 * browsers through the hub again): each a random cookie value naming a hub user and the
 * access token the hub gave them for this server. One user's browsers and repeated
 * sign-ins are capped, so one visitor signing in in a loop pushes out only their own oldest.
 */
import { randomBytes } from 'node:crypto';

const SESSION_TTL_MS = 12 * 3600 * 1000;
const MAX_SESSIONS_PER_USER = 20;
/** A backstop for the whole table, far above what the owner and an admin hold. */
const MAX_SESSIONS = 10_000;

export interface HubSession {
  /** The hub user's name. */
  user: string;
  /** Their access token for this server, from the OAuth flow: what the hub is asked about. */
  token: string;
  until: number;
  checkedAt: number;
}

export class HubSessions {
  private readonly sessions = new Map<string, HubSession>();
  /** Each user's session values, oldest first. */
  private readonly byUser = new Map<string, Set<string>>();

  /** A new session's value; `evict` ends each session the caps push out. */
  add(user: string, token: string, evict: (value: string) => void): string {
    const own = this.byUser.get(user);
    if (own !== undefined && own.size >= MAX_SESSIONS_PER_USER) oldest(own.values(), evict);
    if (this.sessions.size >= MAX_SESSIONS) oldest(this.sessions.keys(), evict);
    const value = randomBytes(32).toString('base64url');
    const now = Date.now();
    this.sessions.set(value, { user, token, until: now + SESSION_TTL_MS, checkedAt: now });
    let mine = this.byUser.get(user);
    if (mine === undefined) this.byUser.set(user, (mine = new Set()));
    mine.add(value);
    return value;
  }

  /** A live session (an expired one is forgotten). */
  get(value: string): HubSession | undefined {
    const session = this.sessions.get(value);
    if (session === undefined) return undefined;
    if (session.until > Date.now()) return session;
    this.forget(value);
    return undefined;
  }

  has(value: string): boolean {
    return this.sessions.has(value);
  }

  /** Forget a session; returns its user, if it was known. */
  forget(value: string): string | undefined {
    const session = this.sessions.get(value);
    if (session === undefined) return undefined;
    this.sessions.delete(value);
    const own = this.byUser.get(session.user);
    own?.delete(value);
    if (own?.size === 0) this.byUser.delete(session.user);
    return session.user;
  }
}

function oldest(values: IterableIterator<string>, evict: (value: string) => void): void {
  const first = values.next();
  if (first.done !== true) evict(first.value);
}
