/**
 * Write the generated parts of the docs: docs/configuration.md from the config and app
 * schemas, and docs/api.md's table of error codes from src/error-codes.ts.
 *   node dist/scripts/gen-config-docs.js          rewrite them
 *   node dist/scripts/gen-config-docs.js --check  exit 1 if one is out of date
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderConfigDocs } from './config-docs/render.js';
import { withErrorTable } from './error-docs.js';

// Compiled to dist/scripts/, two levels below the repository root.
const docs = (name: string) => fileURLToPath(new URL(`../../docs/${name}`, import.meta.url));
const read = (file: string) => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
};
const targets = [
  { file: docs('configuration.md'), text: renderConfigDocs() },
  { file: docs('api.md'), text: withErrorTable(read(docs('api.md'))) },
];

let stale = false;
for (const { file, text } of targets) {
  if (read(file) === text) continue;
  if (process.argv.includes('--check')) {
    console.error(`${file} is out of date: run npm run docs`);
    stale = true;
  } else {
    writeFileSync(file, text);
    console.log(`wrote ${file}`);
  }
}
if (stale) process.exit(1);
