import { chmod, chown, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
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
  return stateDir;
}
