import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The version in hubapps' package.json, found by walking up from this file: two levels up
 * from dist/src/version.js, three from the proxy's bundle in dist/src/proxy/.
 */
function readVersion(): string {
  const start = dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'hubapps' && pkg.version) return pkg.version;
    }
    if (dirname(dir) === dir) throw new Error(`no package.json of hubapps above ${start}`);
  }
}

/** The package version, read once. */
export const VERSION: string = readVersion();
