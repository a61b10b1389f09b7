import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { HubappsError } from '../../errors.js';

interface PackageJson {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

/** The runtime dependencies named in `repo`/package.json (devDependencies are left out). */
export function runtimeDependencies(repo: string): string[] {
  return Object.keys(readPackageJson(repo).dependencies ?? {});
}

/**
 * `names` and everything they depend on, resolved the way Node does (the nearest
 * node_modules upwards from the package that needs it, stopping at `repo`): a map from the
 * path relative to `repo` (node_modules/x, node_modules/a/node_modules/b) to the directory.
 * Optional and peer dependencies count only when they are installed.
 */
export function packageClosure(repo: string, names: Iterable<string>): Map<string, string> {
  const found = new Map<string, string>();
  const queue: Array<[string, string]> = [...names].map((n) => [n, repo]);
  for (let next = queue.pop(); next !== undefined; next = queue.pop()) {
    const [name, from] = next;
    const dir = resolvePackage(repo, name, from);
    if (!dir) {
      throw new HubappsError(
        'package_missing',
        `package ${name} (needed by ${relative(repo, from) || 'hubapps'}) is not installed in ${repo}: run npm ci there first`,
      );
    }
    const rel = relative(repo, dir);
    if (found.has(rel)) continue;
    found.set(rel, dir);
    const pkg = readPackageJson(dir);
    for (const dep of Object.keys(pkg.dependencies ?? {})) queue.push([dep, dir]);
    for (const dep of Object.keys({ ...pkg.optionalDependencies, ...pkg.peerDependencies })) {
      if (resolvePackage(repo, dep, dir)) queue.push([dep, dir]);
    }
  }
  return found;
}

function resolvePackage(repo: string, name: string, from: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === repo || dir === dirname(dir)) return undefined;
  }
}

function readPackageJson(dir: string): PackageJson {
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson;
}
