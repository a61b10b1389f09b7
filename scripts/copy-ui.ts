/**
 * Build step of the launcher page: tsc compiles src/ui/*.ts to dist/ui/; this copies the
 * files tsc does not handle (HTML, CSS, images) next to them, so dist/ui is all the
 * service serves.
 */
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// Compiled to dist/scripts/, two levels below the repository root.
const source = fileURLToPath(new URL('../../src/ui/', import.meta.url));
const target = fileURLToPath(new URL('../../dist/ui/', import.meta.url));

mkdirSync(target, { recursive: true });
for (const file of readdirSync(source)) {
  if (/\.(html|css|svg|png)$/.test(file)) copyFileSync(`${source}${file}`, `${target}${file}`);
}
