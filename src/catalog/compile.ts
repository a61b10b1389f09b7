/**
 * Writing the compiled forms of a catalog (compiled-form.ts) from a full validation. Only
 * the catalog's owner can (the directory is root-owned in production); each app's bytes
 * are hashed before and after validating, so a file edited meanwhile is left out.
 */
import {
  chmodSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { loadCatalog } from './load.js';
import { COMPILED_DIR, compiledPath, compiledRecord, sha256 } from './compiled-form.js';

/** Returns the names of the apps compiled; stale compiled files are removed. */
export function compileCatalog(dir: string): string[] {
  const before = new Map<string, Buffer>();
  for (const f of readdirSync(dir))
    if (f.endsWith('.yaml') && !f.startsWith('.'))
      before.set(f.slice(0, -5), readFileSync(join(dir, f)));
  const catalog = loadCatalog(dir);
  const out = join(dir, COMPILED_DIR);
  mkdirSync(out, { recursive: true });
  chmodSync(out, 0o755);
  const written: string[] = [];
  for (const app of catalog.list()) {
    const source = before.get(app.name);
    if (!source || sha256(readFileSync(app.file)) !== sha256(source)) continue;
    const { name: _name, file: _file, ...spec } = app;
    const target = compiledPath(dir, app.name);
    writeFileSync(`${target}.tmp`, `${JSON.stringify(compiledRecord(source, spec))}\n`);
    chmodSync(`${target}.tmp`, 0o644);
    renameSync(`${target}.tmp`, target);
    written.push(app.name);
  }
  for (const f of readdirSync(out))
    if (!written.includes(f.replace(/\.json$/, ''))) rmSync(join(out, f), { force: true });
  return written;
}
