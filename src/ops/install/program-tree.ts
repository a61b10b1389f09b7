import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HubappsError } from '../../errors.js';
import { packageClosure, runtimeDependencies } from './closure.js';
import { listTree, type TreeEntry } from './ensure.js';

/**
 * What goes into /usr/lib/hubapps/lib: the compiled program (dist/src and the launcher's dist/ui, without source
 * maps, which point at sources that are not installed), the SQL migrations, the systemd
 * templates and docs (so a later `hubapps install` run from the installed copy finds them),
 * a package.json (ES modules, the version) and the runtime dependencies only.
 */

/** The package this code runs from: a checkout, or an installed lib directory. */
export function sourceRoot(): string {
  // dist/src/ops/install/program-tree.js -> four levels up.
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
  const pkg = join(root, 'package.json');
  if (
    !existsSync(pkg) ||
    (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name !== 'hubapps'
  ) {
    throw new HubappsError(
      'source_missing',
      `cannot find hubapps' package.json in ${root}: run install from a built checkout or an installed copy`,
    );
  }
  return root;
}

export function programTree(source: string): Map<string, TreeEntry> {
  if (!existsSync(join(source, 'dist', 'src', 'cli.js'))) {
    throw new HubappsError(
      'not_built',
      `${source}/dist/src/cli.js is missing: build first (npm ci && npm run build)`,
    );
  }
  const tree = new Map<string, TreeEntry>();
  const add = (prefix: string, entries: Map<string, TreeEntry>) => {
    for (const [rel, entry] of entries) tree.set(`${prefix}/${rel}`, entry);
  };
  for (const dir of [
    'dist',
    'dist/src',
    'dist/ui',
    'migrations',
    'systemd',
    'docs',
    'node_modules',
  ])
    tree.set(dir, { kind: 'dir' });
  const noMaps = (rel: string, isDir: boolean) => !isDir && rel.endsWith('.map');
  add('dist/src', listTree(join(source, 'dist', 'src'), noMaps));
  // The launcher page, built by tsconfig.ui.json and scripts/copy-ui.ts.
  if (existsSync(join(source, 'dist', 'ui')))
    add('dist/ui', listTree(join(source, 'dist', 'ui'), noMaps));
  for (const dir of ['migrations', 'systemd', 'docs']) {
    if (existsSync(join(source, dir))) add(dir, listTree(join(source, dir)));
  }
  for (const [rel, entry] of packagesTree(source, runtimeDependencies(source)))
    tree.set(rel, entry);
  tree.set('package.json', { kind: 'content', content: installedPackageJson(source) });
  return tree;
}

/** `names` and everything they depend on, as installed in `source`: node_modules/... entries, build leftovers of native addons left out. */
export function packagesTree(source: string, names: Iterable<string>): Map<string, TreeEntry> {
  const tree = new Map<string, TreeEntry>([['node_modules', { kind: 'dir' }]]);
  for (const [rel, dir] of packageClosure(source, names)) {
    addParents(tree, rel);
    tree.set(rel, { kind: 'dir' });
    const native = existsSync(join(dir, 'binding.gyp'));
    // A package's own node_modules holds only what the closure lists separately.
    for (const [child, entry] of listTree(
      dir,
      (c, isDir) =>
        (isDir && c.split('/').includes('node_modules')) || (native && buildLeftover(c, isDir)),
    )) {
      tree.set(`${rel}/${child}`, entry);
    }
  }
  return tree;
}

/** The package.json of the installed copy: what Node and `hubapps version` read, nothing for npm to run. */
function installedPackageJson(source: string): string {
  const pkg = JSON.parse(readFileSync(join(source, 'package.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  const keep = ['name', 'version', 'description', 'type', 'license', 'engines', 'dependencies'];
  const out = Object.fromEntries(keep.filter((k) => pkg[k] !== undefined).map((k) => [k, pkg[k]]));
  return `${JSON.stringify({ ...out, private: true }, null, 2)}\n`;
}

/**
 * What node-gyp leaves in a native addon's package besides the addon: its C sources and
 * object files (tens of MB for better-sqlite3). Only build/CONFIG/NAME.node is loaded.
 */
function buildLeftover(rel: string, isDir: boolean): boolean {
  const parts = rel.split('/');
  // Sources, and binaries for other platforms (node-pty ships macOS and Windows ones): the addon was built here, into build/.
  if (['deps', 'src', 'prebuilds', 'third_party'].includes(parts[0]!)) return true;
  if (parts[0] !== 'build') return false;
  return isDir ? parts.length > 2 : parts.length !== 3 || !rel.endsWith('.node');
}

function addParents(tree: Map<string, TreeEntry>, rel: string): void {
  const parts = rel.split('/');
  for (let i = 1; i < parts.length; i++) tree.set(parts.slice(0, i).join('/'), { kind: 'dir' });
}
