import { execFile } from 'node:child_process';
import { HubappsError } from '../errors.js';

/** getent's exit code for "key not found". */
const NOT_FOUND = 2;
const GROUP_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}$/;

/** Does the Unix group exist (NSS: files, LDAP, SSSD)? Names are checked before getent sees them. */
export function groupExists(name: string, timeoutMs = 5000): Promise<boolean> {
  if (!GROUP_NAME.test(name) || /^\d+$/.test(name))
    return Promise.reject(
      new HubappsError('invalid_group', `'${name.slice(0, 64)}' is not a valid group name`),
    );
  return new Promise((resolve, reject) => {
    execFile('getent', ['group', '--', name], { timeout: timeoutMs }, (err) => {
      if (!err) return resolve(true);
      if ((err as { code?: unknown }).code === NOT_FOUND) return resolve(false);
      reject(
        new HubappsError(
          'nss_failed',
          `cannot look up group ${name} (getent group): ${err.message}`,
          { cause: err },
        ),
      );
    });
  });
}
