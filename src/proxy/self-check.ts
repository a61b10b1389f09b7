/**
 * What the proxy checks about itself before it runs anything, when the installed wrapper
 * started it through sudo (--expect-user-check): the sudoers rule and the service decide
 * who the proxy runs as, and either can be wrong or loosened, so the proxy holds the line
 * on its own. It refuses to run as an account below min_uid (or uid 0 under any name) or
 * outside the allowed group, and refuses a catalog that someone other than root could have
 * written: the directory and the app file must be root-owned and writable by nobody else.
 * The demo's local launcher does not pass the flag and runs apps as whoever started it.
 */
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { HubappsError, errnoCode } from '../errors.js';

export interface RunAsPolicy {
  minUid: number;
  allowedGroup: string;
}

export interface Identity {
  uid: number;
  name: string;
  /** Primary and supplementary gids of the process. */
  gids: number[];
}

export function processIdentity(name: string): Identity {
  return {
    uid: process.getuid!(),
    name,
    gids: [...new Set([process.getgid!(), ...process.getgroups!()])],
  };
}

/** The gid of a group through NSS (LDAP/SSSD included), or undefined when it does not exist. */
export function groupGid(group: string): number | undefined {
  try {
    const line = execFileSync('/usr/bin/getent', ['group', '--', group], {
      encoding: 'utf8',
      env: { PATH: '/usr/bin:/bin' },
      timeout: 10_000,
    });
    const gid = Number(line.split(':')[2]);
    return Number.isInteger(gid) ? gid : undefined;
  } catch {
    return undefined;
  }
}

/** Throws 'refused_user' unless this process may serve apps under `policy`. */
export function checkRunAs(
  me: Identity,
  policy: RunAsPolicy,
  gidOf: (group: string) => number | undefined = groupGid,
): void {
  if (me.uid === 0)
    throw refused(`the proxy runs as uid 0 (${me.name}): it never runs apps as root`);
  if (me.uid < policy.minUid)
    throw refused(
      `the proxy runs as ${me.name} (uid ${me.uid}), below min_uid ${policy.minUid}: system accounts are refused`,
    );
  const gid = gidOf(policy.allowedGroup);
  if (gid === undefined)
    throw refused(`the allowed group ${policy.allowedGroup} does not exist (getent group)`);
  if (!me.gids.includes(gid))
    throw refused(`${me.name} is not a member of the allowed group ${policy.allowedGroup}`);
}

/** Throws 'catalog_unsafe' unless the catalog directory and the app's file are root-owned and writable by nobody else. */
export function checkCatalogFile(catalogDir: string, app: string): void {
  checkRootOwned(catalogDir, 'the catalog directory');
  checkRootOwned(join(catalogDir, `${app}.yaml`), `the app file of '${app}'`);
}

function checkRootOwned(path: string, what: string): void {
  let st;
  try {
    st = statSync(path);
  } catch (err) {
    // A missing app file is the catalog's answer ("not in the catalog"), reported by the loader.
    if (errnoCode(err) === 'ENOENT') return;
    throw new HubappsError(
      'catalog_unsafe',
      `cannot check ${what} ${path}: ${errnoCode(err) ?? String(err)}`,
    );
  }
  if (st.uid !== 0) throw unsafe(`${what} ${path} is owned by uid ${st.uid}, not root`);
  if (st.mode & 0o002)
    throw unsafe(
      `${what} ${path} is writable by every user (mode ${(st.mode & 0o7777).toString(8)})`,
    );
  if (st.mode & 0o020 && st.gid !== 0)
    throw unsafe(
      `${what} ${path} is writable by group ${st.gid} (mode ${(st.mode & 0o7777).toString(8)})`,
    );
}

function refused(message: string): HubappsError {
  return new HubappsError('refused_user', `refused: ${message}`);
}

function unsafe(message: string): HubappsError {
  return new HubappsError(
    'catalog_unsafe',
    `refused: ${message}; the catalog must be root-owned and writable only by root (chown root:root, chmod go-w)`,
    { expose: true },
  );
}
