/**
 * The per-user directory for {unix_socket} apps. Only the user may enter it (0700), which
 * is what makes a unix socket safer than a loopback port that every local user can reach.
 * /tmp is shared, so a directory someone else created there (or a symlink) is refused.
 */
import { chmodSync, lstatSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { HubappsError, errnoCode } from '../errors.js';

/** $XDG_RUNTIME_DIR/hubapps when that directory is ours, else /tmp/hubapps-<uid>. */
export function runtimeDir(env: NodeJS.ProcessEnv = process.env, uid = process.getuid!()): string {
  const xdg = env.XDG_RUNTIME_DIR;
  if (xdg && xdg.startsWith('/') && ownedDirectory(xdg, uid)) return ensurePrivateDir(join(xdg, 'hubapps'), uid);
  return ensurePrivateDir(`/tmp/hubapps-${uid}`, uid);
}

/**
 * Socket path for one server; a stale socket file from an earlier run is removed. The
 * directory is the user's own and a user has one active server per name, so the name alone
 * is unique; it carries no id that says anything about the service's database.
 */
export function socketPath(dir: string, serverName: string): string {
  const path = join(dir, `${serverName}.sock`);
  rmSync(path, { force: true });
  return path;
}

function ownedDirectory(path: string, uid: number): boolean {
  try {
    const st = lstatSync(path);
    return st.isDirectory() && st.uid === uid;
  } catch {
    return false;
  }
}

function ensurePrivateDir(path: string, uid: number): string {
  try {
    mkdirSync(path, { mode: 0o700 });
  } catch (err) {
    if (errnoCode(err) !== 'EEXIST') {
      throw new HubappsError('runtime_dir', 500, `cannot create the socket directory ${path}: ${errnoCode(err) ?? String(err)}`);
    }
  }
  const st = lstatSync(path);
  if (st.isSymbolicLink() || !st.isDirectory() || st.uid !== uid) {
    throw new HubappsError(
      'runtime_dir',
      500,
      `the socket directory ${path} is not a directory owned by uid ${uid}; someone else created it: remove it and start again`,
    );
  }
  if ((st.mode & 0o777) !== 0o700) chmodSync(path, 0o700);
  return path;
}
