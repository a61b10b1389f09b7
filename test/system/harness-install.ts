import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, readFileSync, rmSync } from 'node:fs';
import {
  chmod,
  chown,
  cp,
  lchown,
  mkdir,
  readdir,
  readFile,
  rm,
  writeFile,
} from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { runOk } from './harness-exec.js';
import { packageClosure as closureOf } from '../../src/ops/install/closure.js';
import { DEFAULT_MIN_UID } from '../../src/config/schema.js';
import { compileCatalog } from '../../src/catalog/compile.js';
import { COMPILED_DIR } from '../../src/catalog/compiled-form.js';
import { PROXY_ENV, wrapperScript } from '../../src/ops/install/proxy-wrapper.js';
import { PROXY_MAIN_IN_LIB, proxyArgs, proxyCommandLine } from '../../src/proxy/command-line.js';
import { TEST_GROUP } from './harness-accounts.js';

/**
 * Lays out hubapps-proxy the way production does (docs/install.md): root-owned,
 * world-readable, outside the checkout. The checkout may sit under a private directory
 * (/root, /work/...) that test users cannot traverse, and the sudoers rule must point at a
 * file the service user cannot modify.
 */

export interface InstalledProxy {
  /** e.g. /opt/hubapps-t-1a2b3c4d */
  root: string;
  /** The wrapper the sudoers rule names: <root>/bin/hubapps-proxy. */
  proxyPath: string;
  catalogDir: string;
  remove(): Promise<void>;
}

/** The checkout: the nearest directory above this file with hubapps' package.json. */
export function repoRoot(): string {
  for (
    let dir = dirname(fileURLToPath(import.meta.url));
    dir !== dirname(dir);
    dir = dirname(dir)
  ) {
    const pkg = join(dir, 'package.json');
    if (
      existsSync(pkg) &&
      (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'hubapps'
    )
      return dir;
  }
  throw new Error('cannot find the hubapps checkout above the test files');
}

/** Where the compiled proxy starts; present once `npx tsc` has built src/proxy/main.ts. */
export function builtProxyMain(): string {
  return join(repoRoot(), 'dist', 'src', 'proxy', 'main.js');
}

/**
 * Install the compiled proxy under a fresh /opt/hubapps-t-<random> (or `root`): dist/src,
 * the node_modules the proxy imports (and their dependencies), hubapps' package.json (which
 * makes the .js files ES modules) and the wrapper <root>/bin/hubapps-proxy. Needs root.
 */
export async function installProxy(
  opts: { root?: string; catalogDir?: string; proxyArgs?: string[] } = {},
): Promise<InstalledProxy> {
  const repo = repoRoot();
  const main = builtProxyMain();
  if (!existsSync(main))
    throw new Error(`${main} does not exist: build first (npx tsc -p tsconfig.json)`);
  const root = opts.root ?? `/opt/hubapps-t-${randomBytes(4).toString('hex')}`;
  const lib = join(root, 'lib');
  const catalogDir = opts.catalogDir ?? join(root, 'apps.d');
  await rm(root, { recursive: true, force: true });
  await mkdir(join(lib, 'dist'), { recursive: true });
  await mkdir(join(root, 'bin'));
  await mkdir(catalogDir, { recursive: true });
  await cp(join(repo, 'dist', 'src'), join(lib, 'dist', 'src'), { recursive: true });
  await copyPackages(repo, lib, await bareImports(main));
  // hubapps' own package.json: "type": "module" for the .js files, and the version src/version.ts reads.
  await cp(join(repo, 'package.json'), join(lib, 'package.json'));
  const proxyPath = join(root, 'bin', 'hubapps-proxy');
  const args =
    opts.proxyArgs ?? proxyArgs(catalogDir, { allowedGroup: TEST_GROUP, minUid: DEFAULT_MIN_UID });
  // The entry point the real wrapper runs (the packages above are those of the modules it is made of).
  const entry = join(lib, PROXY_MAIN_IN_LIB);
  if (!existsSync(entry))
    throw new Error(`${entry} does not exist: build first (npm run build bundles it)`);
  await writeFile(
    proxyPath,
    wrapperScript({ cleanEnv: PROXY_ENV, ...proxyCommandLine(args, { main: entry }) }),
  );
  await lockDown(root);
  await chmod(proxyPath, 0o755);
  return { root, proxyPath, catalogDir, remove: () => rm(root, { recursive: true, force: true }) };
}

/**
 * Add what `hubapps serve` needs besides the proxy to an installation: the packages the CLI
 * imports and the SQL migrations (found next to dist/ as in a checkout). Resolves to the
 * installed cli.js, for `node <cli.js> serve`. Needs root.
 */
export async function installService(installed: InstalledProxy): Promise<string> {
  const repo = repoRoot();
  const lib = join(installed.root, 'lib');
  await copyPackages(repo, lib, await bareImports(join(repo, 'dist', 'src', 'cli.js')));
  await cp(join(repo, 'migrations'), join(lib, 'migrations'), { recursive: true });
  await lockDown(lib);
  return join(lib, 'dist', 'src', 'cli.js');
}

/**
 * Copy the closure of `packages` to `lib`. cp(1), since fs.cp takes seconds over the
 * thousands of small files in node_modules. A package's nested node_modules is dropped:
 * the packages in it that something needs are closure entries of their own, and sorting
 * puts them after their parent, so they are copied after the drop.
 */
async function copyPackages(repo: string, lib: string, packages: Iterable<string>): Promise<void> {
  const closure = [...(await packageClosure(repo, packages))].sort(([a], [b]) => (a < b ? -1 : 1));
  for (const [rel, dir] of closure) {
    const target = join(lib, rel);
    await mkdir(dirname(target), { recursive: true });
    await runOk('cp', ['-R', '-T', dir, target]);
    await rm(join(target, 'node_modules'), { recursive: true, force: true });
  }
}

/**
 * Write root-owned NAME.yaml files (0644) into `dir` (0755), as an admin would, and compile
 * them as `hubapps check-config` run by root does; a catalog with an invalid file (some
 * tests install one on purpose) gets no compiled form, as with check-config. Needs root.
 */
export async function installCatalog(dir: string, apps: Record<string, object>): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [name, app] of Object.entries(apps)) {
    await writeFile(join(dir, `${name}.yaml`), stringify(app));
  }
  try {
    compileCatalog(dir);
  } catch {
    rmSync(join(dir, COMPILED_DIR), { recursive: true, force: true });
  }
  await lockDown(dir);
}

/** chown -R root:root, directories 0755, files 0644 (callers set execute bits afterwards). */
export async function lockDown(path: string): Promise<void> {
  const info = lstatSync(path);
  // chown and chmod follow symlinks, which could reach into the checkout: own the link only.
  if (info.isSymbolicLink()) return lchown(path, 0, 0);
  const dir = info.isDirectory();
  await chown(path, 0, 0);
  await chmod(path, dir ? 0o755 : 0o644);
  if (!dir) return;
  for (const name of await readdir(path)) await lockDown(join(path, name));
}

const IMPORT =
  /^(?:(?:import|export)\b[^'"\n]*?\bfrom|import)\s*['"]([^'"]+)['"]|\bimport(?:\.meta\.resolve)?\(\s*['"]([^'"]+)['"]\s*\)/gm;

/**
 * Package names that the program starting at `entry` imports, following its relative
 * imports through the compiled JavaScript. tsc writes each static import or re-export on
 * one line of its own (`import ... from '...'`, `export ... from '...'`, `import '...'`)
 * and dynamic ones as `import('...')`; files read from a package at run time (the
 * terminal's xterm.js) are found with `import.meta.resolve('...')`. So patterns are enough
 * here. Anchoring the static forms at the start of a line keeps text such as
 * "(from '${ref}')" in a message out.
 */
export async function bareImports(entry: string): Promise<Set<string>> {
  const builtins = new Set(builtinModules);
  const packages = new Set<string>();
  const seen = new Set<string>();
  const queue = [entry];
  for (let file = queue.pop(); file !== undefined; file = queue.pop()) {
    if (seen.has(file)) continue;
    seen.add(file);
    const source = await readFile(file, 'utf8');
    for (const m of source.matchAll(IMPORT)) {
      const spec = (m[1] ?? m[2])!;
      if (spec.startsWith('.')) queue.push(join(dirname(file), spec));
      else if (!spec.startsWith('node:') && !builtins.has(spec)) packages.add(packageName(spec));
    }
  }
  return packages;
}

/** `names` and everything they depend on: the closure `hubapps install` copies too (src/ops/install/closure.ts). */
export async function packageClosure(
  repo: string,
  names: Iterable<string>,
): Promise<Map<string, string>> {
  return closureOf(repo, names);
}

function packageName(spec: string): string {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}
