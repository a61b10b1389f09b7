import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import { HubappsError, errnoCode } from '../errors.js';

/**
 * The two directories the proxies of this host work in: where they listen (one unix socket
 * each) and the parent of the apps' private runtime directories. With sudo they are
 * root-provisioned under /run/hubapps (hubapps.tmpfiles), so no local account can squat
 * them; the local launcher runs everything as the service's own user, which owns both.
 */
export interface HostDirs {
  proxySockets: string;
  runtime: string;
}

export const PRODUCTION_DIRS: HostDirs = {
  proxySockets: '/run/hubapps/proxies',
  runtime: '/run/hubapps/users',
};

export function hostDirs(
  config: Pick<Config, 'launcher' | 'data_dir' | 'proxy_socket_dir' | 'runtime_dir'>,
): HostDirs {
  const local = config.launcher === 'local';
  return {
    proxySockets:
      config.proxy_socket_dir ??
      (local ? join(config.data_dir, 'proxies') : PRODUCTION_DIRS.proxySockets),
    runtime: config.runtime_dir ?? (local ? join(config.data_dir, 'run') : PRODUCTION_DIRS.runtime),
  };
}

/** The local launcher's directories: the service makes them itself, private to its user. */
export function ensureLocalDirs(dirs: HostDirs): void {
  for (const dir of [dirs.proxySockets, dirs.runtime]) {
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw new HubappsError(
        'runtime_dir',
        `cannot create ${dir} (${errnoCode(err) ?? String(err)}): the service's user must be able to write below data_dir`,
        { cause: err },
      );
    }
  }
}
