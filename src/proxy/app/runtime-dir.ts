/**
 * The server's private runtime directory, for {unix_socket} apps and the terminal. Only
 * the user may enter it (0700), which is what makes a unix socket safer than a loopback
 * port. Each start gets a fresh one, made with mkdtemp in runtime_dir: a root-owned,
 * sticky directory nobody can list, so nobody can guess the name in advance, squat it or
 * plant a link there, and nobody but the owner can remove it. Never /tmp.
 */
import { lstatSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { HubappsError, errnoCode } from '../../errors.js';

/** The socket a {unix_socket} app or the terminal listens on, in its server's own directory. */
export const APP_SOCKET = 'app.sock';

/**
 * A new private directory in `parent` (runtime_dir from the start request). Without one
 * (a proxy on a Slurm node given no runtime_dir) the user's own $XDG_RUNTIME_DIR, which
 * pam_systemd made, is the parent.
 */
export function makeRuntimeDir(
  parent: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  uid = process.getuid!(),
): string {
  const base = parent ?? env.XDG_RUNTIME_DIR;
  if (!base || !base.startsWith('/')) {
    throw new HubappsError(
      'runtime_dir',
      'no runtime directory for this server: runtime_dir is not set and XDG_RUNTIME_DIR is not either',
    );
  }
  checkParent(base, uid);
  try {
    return mkdtempSync(join(base, `${uid}-`));
  } catch (err) {
    throw new HubappsError(
      'runtime_dir',
      `cannot create a runtime directory in ${base} (${errnoCode(err) ?? String(err)}): it must be mode 1733 (hubapps.tmpfiles makes it so)`,
      { cause: err },
    );
  }
}

/** Best effort: what the app left there goes with the server. */
export function removeRuntimeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Root's sticky directory (others may add, only owners remove), or one of the user's own
 * (the local launcher's, XDG_RUNTIME_DIR); anything else could be swapped under the proxy.
 */
function checkParent(path: string, uid: number): void {
  let st;
  try {
    st = lstatSync(path);
  } catch (err) {
    throw new HubappsError(
      'runtime_dir',
      `the runtime directory ${path} is missing (${errnoCode(err)}): create it root-owned with mode 1733 (systemd-tmpfiles --create, hubapps.tmpfiles)`,
      { cause: err },
    );
  }
  const mine = st.uid === uid && (st.mode & 0o022) === 0;
  const rootSticky = st.uid === 0 && (st.mode & 0o1000) !== 0;
  if (st.isSymbolicLink() || !st.isDirectory() || !(mine || rootSticky)) {
    throw new HubappsError(
      'runtime_dir',
      `the runtime directory ${path} must be a root-owned sticky directory (mode 1733) or the user's own, not writable by others`,
    );
  }
}
