import { HubappsError } from './errors.js';

/** Server and app names: lower case, at most 63 characters, no `..`; they end up in paths, routes and log file names. */
export const SERVER_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/**
 * Unix user names as NSS hands them out (useradd's default rule plus the dots and
 * upper case that LDAP directories use). Never starts with '-', so it cannot be read as
 * an option by sudo or getent.
 */
export const USER_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}$/;

declare const checked: unique symbol;
/** A user name that passed checkUserName: what the lifecycle's entry points take, so a name is checked once, where it comes in. */
export type UserName = string & { readonly [checked]: 'user' };
/** A server (or app) name that passed checkServerName. */
export type ServerName = string & { readonly [checked]: 'server' };

export function checkServerName(name: string, what = 'server name'): ServerName {
  if (!SERVER_NAME.test(name) || name.includes('..')) {
    throw new HubappsError(
      'invalid_name',
      `invalid ${what} '${printable(name)}': use 1-63 characters a-z 0-9 . _ -, starting with a letter or digit, without '..'`,
    );
  }
  return name as ServerName;
}

export function checkUserName(name: string): UserName {
  if (!USER_NAME.test(name) || name.includes('..')) {
    throw new HubappsError('invalid_user', `invalid user name '${printable(name)}'`);
  }
  return name as UserName;
}

/** Echo user input in a message without control characters and without unbounded length. */
export function printable(s: string, max = 64): string {
  const clean = s.replace(/[\u0000-\u001f\u007f]/g, '?');
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}
