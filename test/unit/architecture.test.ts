import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  apiPersistenceImports,
  circles,
  componentOf,
  launcherClassImports,
  readImports,
  tsFiles,
  upwardImports,
  type ImportEdge,
} from '../helpers/import-graph.js';
import { tmpDir } from '../helpers/tmp.js';
import type { ApiDeps } from '../../src/api/deps.js';

// Compiled to dist/test/unit/, three levels below the repository root.
const SRC = fileURLToPath(new URL('../../../src', import.meta.url));

/**
 * src/'s layers, lowest first: a file may import its own layer or a lower one, never a
 * higher one. A new folder must be placed here on purpose.
 * - proxy and apps share a layer: the built-in apps run inside hubapps-proxy, which loads
 *   them through its registry (proxy/app/builtin.ts), and they use its app-process API.
 * - ui is browser code, built on its own (tsconfig.ui.json), and imports nothing of the rest.
 * - limits sits with the store, which counts tokens and grants against them inside its
 *   transactions; catalog is above config (it reads YAML with config's helpers); users is
 *   above catalog (the user policy checks an app's users and groups keys).
 * Folders of one layer may import each other; the file-level circle check still holds.
 */
const LAYERS = [
  [
    'errors.ts',
    'error-codes.ts',
    'names.ts',
    'version.ts',
    'host-label.ts',
    'port-label.ts',
    'shell-quote.ts',
    'secret-hash.ts',
    'model',
    'protocol',
    'procfs',
    'net',
    'http',
    'ui',
  ],
  ['config', 'store', 'chp', 'limits'],
  ['catalog'],
  ['users'],
  ['proxy', 'apps'],
  ['launchers', 'auth'],
  ['lifecycle'],
  ['api'],
  ['serve.ts', 'demo', 'ops', 'cli.ts', 'cli-usage.ts'],
] as const;

const LAUNCHER_CLASSES = [
  'launchers/process-launcher.ts',
  'launchers/sudo-launcher.ts',
  'launchers/local-launcher.ts',
  'launchers/slurm-launcher.ts',
];

/**
 * API handlers reach servers through the manager and the queries only: ApiDeps has no store,
 * launcher or route table, so `deps.store` in a handler does not compile. This line fails the
 * build when one of them comes back (the import-graph test keeps handlers off the modules).
 */
const apiDepsKeepOffLifecycleInternals: Extract<
  keyof ApiDeps,
  'store' | 'launcher' | 'routes' | 'serverRoutes'
> extends never
  ? true
  : false = true;

const show = (edges: readonly ImportEdge[]) =>
  edges.map((e) => `${e.from} imports ${e.to}`).join('\n');

describe('the import graph of src/', () => {
  const edges = readImports(SRC);

  it('has no circles between files', () => {
    assert.deepEqual(
      circles(edges).map((c) => c.join(' <-> ')),
      [],
    );
  });

  it('places every folder and top-level file in a layer', () => {
    const components = new Set(tsFiles(SRC).map((f) => componentOf(f.slice(SRC.length + 1))));
    const placed = new Set<string>(LAYERS.flat());
    assert.deepEqual([...components].filter((c) => !placed.has(c)).sort(), []);
  });

  it('has no import into a higher layer', () => {
    const { upward, unplaced } = upwardImports(edges, LAYERS);
    assert.deepEqual(unplaced, []);
    assert.equal(show(upward), '');
  });

  it('keeps the lifecycle on the Launcher contract: it imports no launcher class', () => {
    assert.equal(show(launcherClassImports(edges, LAUNCHER_CLASSES)), '');
  });

  it('keeps the API off the store and CHP: it imports no module of src/store or src/chp, and the lifecycle deps only in api/deps.ts', () => {
    assert.equal(show(apiPersistenceImports(edges)), '');
    assert.equal(apiDepsKeepOffLifecycleInternals, true);
  });
});

describe('the import-graph reader', () => {
  const write = (root: string, file: string, text: string) => {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), text);
  };

  it('finds a circle, an upward import and an unplaced folder in a small tree', async () => {
    const tmp = await tmpDir('graph');
    try {
      write(tmp.path, 'low/a.ts', "import type { B } from './b.js';\nexport type A = B;\n");
      write(
        tmp.path,
        'low/b.ts',
        "import { a } from './a.js';\nimport { h } from '../high/h.js';\nexport const b = a;\n",
      );
      write(
        tmp.path,
        'high/h.ts',
        "import { readFileSync } from 'node:fs';\nexport const h = await import('../low/b.js');\n",
      );
      write(tmp.path, 'stray/s.ts', "export { b } from '../low/b.js';\n");
      const found = readImports(tmp.path);
      assert.deepEqual(circles(found), [['high/h.ts', 'low/a.ts', 'low/b.ts']]);
      const { upward, unplaced } = upwardImports(found, [['low'], ['high']]);
      assert.deepEqual(upward, [{ from: 'low/b.ts', to: 'high/h.ts' }]);
      assert.deepEqual(unplaced, ['stray']);
    } finally {
      await tmp.remove();
    }
  });

  it('finds the lifecycle importing a launcher class (also lazily) and the API importing the store or CHP', async () => {
    const tmp = await tmpDir('graph');
    try {
      write(tmp.path, 'launchers/launcher.ts', 'export interface Launcher { kind: string }\n');
      write(
        tmp.path,
        'launchers/sudo-launcher.ts',
        "import type { Launcher } from './launcher.js';\nexport class SudoLauncher {}\n",
      );
      write(
        tmp.path,
        'lifecycle/ok.ts',
        "import type { Launcher } from '../launchers/launcher.js';\nexport type L = Launcher;\n",
      );
      write(
        tmp.path,
        'lifecycle/bad.ts',
        "export const load = () => import('../launchers/sudo-launcher.js');\n",
      );
      write(tmp.path, 'store/servers.ts', 'export class ServerStore {}\n');
      write(tmp.path, 'chp/chp-client.ts', 'export class ChpRouteTable {}\n');
      write(
        tmp.path,
        'api/handler.ts',
        "import type { ServerStore } from '../store/servers.js';\nexport { ChpRouteTable } from '../chp/chp-client.js';\nexport type S = ServerStore;\n",
      );
      write(tmp.path, 'lifecycle/deps.ts', 'export interface LifecycleDeps {}\n');
      write(
        tmp.path,
        'api/deps.ts',
        "import type { LifecycleDeps } from '../lifecycle/deps.js';\nexport type D = LifecycleDeps;\n",
      );
      write(
        tmp.path,
        'api/sneaky.ts',
        "import type { LifecycleDeps } from '../lifecycle/deps.js';\nexport type D = LifecycleDeps;\n",
      );
      const found = readImports(tmp.path);
      assert.deepEqual(launcherClassImports(found, ['launchers/sudo-launcher.ts']), [
        { from: 'lifecycle/bad.ts', to: 'launchers/sudo-launcher.ts' },
      ]);
      assert.deepEqual(
        apiPersistenceImports(found)
          .map((e) => e.to)
          .sort(),
        ['chp/chp-client.ts', 'lifecycle/deps.ts', 'store/servers.ts'],
      );
    } finally {
      await tmp.remove();
    }
  });
});
