import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TmpDir {
  path: string;
  /** Delete the directory and everything in it; safe to call twice. */
  remove(): Promise<void>;
}

/** A fresh private (0700) directory under the system temp dir, e.g. /tmp/hubapps-store-AbC123. */
export async function tmpDir(prefix: string): Promise<TmpDir> {
  const path = await mkdtemp(join(tmpdir(), `hubapps-${prefix}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}
