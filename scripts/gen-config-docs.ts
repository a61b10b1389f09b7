/**
 * Write docs/configuration.md from the config and app schemas.
 *   node dist/scripts/gen-config-docs.js          rewrite the file
 *   node dist/scripts/gen-config-docs.js --check  exit 1 if the file is out of date
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderConfigDocs } from './config-docs/render.js';

// Compiled to dist/scripts/, two levels below the repository root.
const target = fileURLToPath(new URL('../../docs/configuration.md', import.meta.url));
const text = renderConfigDocs();

if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    // A missing file is out of date too.
  }
  if (current !== text) {
    console.error(`${target} is out of date: run npm run docs`);
    process.exit(1);
  }
} else {
  writeFileSync(target, text);
  console.log(`wrote ${target}`);
}
