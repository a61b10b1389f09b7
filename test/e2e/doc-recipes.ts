/**
 * The tested app recipes of docs/apps.md: each is a fenced yaml block whose first line is
 * `# /etc/hubapps/apps.d/NAME.yaml`. Tests install the block's text as the catalog file, so
 * what the docs show is what was tested.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../system/harness.js';

const BLOCK = /```yaml\n(# \/etc\/hubapps\/apps\.d\/([a-z0-9._-]+)\.yaml\n[\s\S]*?)```/g;

/** The text of the recipe for `name` in docs/apps.md, exactly as shown (comment line included). */
export function docRecipe(name: string): string {
  const doc = readFileSync(join(repoRoot(), 'docs', 'apps.md'), 'utf8');
  const found = [...doc.matchAll(BLOCK)].filter((m) => m[2] === name);
  if (found.length !== 1)
    throw new Error(
      `docs/apps.md has ${found.length} recipes for apps.d/${name}.yaml, expected one`,
    );
  return found[0]![1]!;
}
