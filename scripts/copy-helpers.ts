/**
 * Build step: tsc compiles only TypeScript, but src/ also holds helpers in other languages
 * that run beside the compiled code (src/ops/bind-guard.py, which the port guard's root
 * helper runs; src/jupyterhub/hubapps_spawner.py, which `install --jupyterhub-spawner`
 * puts where JupyterHub's Python imports it). This copies them to the same place under dist/src, where the installed
 * program (src/ops/install/program-tree.ts takes all of dist/src) finds them.
 */
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Compiled to dist/scripts/, two levels below the repository root.
const source = fileURLToPath(new URL('../../src/', import.meta.url));
const target = fileURLToPath(new URL('../../dist/src/', import.meta.url));

for (const entry of readdirSync(source, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !entry.name.endsWith('.py')) continue;
  const rel = join(entry.parentPath, entry.name).slice(source.length);
  mkdirSync(dirname(join(target, rel)), { recursive: true });
  copyFileSync(join(source, rel), join(target, rel));
}
