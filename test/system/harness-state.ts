import { chmod, chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { TEST_USERS } from './harness-accounts.js';
import { runOk } from './harness-exec.js';

/**
 * The service's state as production lays it out, for a service running as the test
 * service user: data/, logs/ and secrets/ in a fresh 0700 directory it owns, each secret a
 * 0600 file readable by it alone (the config refers to them as file: secrets).
 */
export async function createServiceState(secrets: Record<string, string>): Promise<string> {
  const uid = Number((await runOk('id', ['-u', TEST_USERS.svc])).stdout);
  const gid = Number((await runOk('id', ['-g', TEST_USERS.svc])).stdout);
  const stateDir = await mkdtemp('/tmp/hubapps-t-state-');
  for (const dir of ['', 'data', 'logs', 'secrets']) {
    await mkdir(join(stateDir, dir), { recursive: true });
    await chmod(join(stateDir, dir), 0o700);
    await chown(join(stateDir, dir), uid, gid);
  }
  for (const [name, value] of Object.entries(secrets)) {
    const file = join(stateDir, 'secrets', name);
    await writeFile(file, `${value}\n`, { mode: 0o600 });
    await chown(file, uid, gid);
  }
  await createHostDirs(stateDir, gid);
  return stateDir;
}

/**
 * What hubapps.tmpfiles provisions under /run/hubapps, in /run beside a test's state
 * directory (named after it): the proxies' socket directory (root, the service's group,
 * 3733) and the parent of the apps' runtime directories (root, 1733; doctor refuses one in
 * /tmp). The service's config points there.
 */
export function hostDirsFor(stateDir: string): { proxy_socket_dir: string; runtime_dir: string } {
  const root = hostRoot(stateDir);
  return { proxy_socket_dir: join(root, 'proxies'), runtime_dir: join(root, 'users') };
}

const hostRoot = (stateDir: string) => join('/run', `${basename(stateDir)}-host`);

export async function createHostDirs(stateDir: string, serviceGid: number): Promise<void> {
  const dirs = hostDirsFor(stateDir);
  await mkdir(hostRoot(stateDir), { mode: 0o755 });
  await chmod(hostRoot(stateDir), 0o755);
  await mkdir(dirs.proxy_socket_dir);
  await chown(dirs.proxy_socket_dir, 0, serviceGid);
  await chmod(dirs.proxy_socket_dir, 0o3733);
  await mkdir(dirs.runtime_dir);
  await chmod(dirs.runtime_dir, 0o1733);
}

/** The state directory and its host directories. */
export async function removeServiceState(stateDir: string): Promise<void> {
  await rm(stateDir, { recursive: true, force: true });
  await rm(hostRoot(stateDir), { recursive: true, force: true });
}
