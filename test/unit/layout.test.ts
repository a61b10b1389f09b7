import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tsFiles } from '../helpers/import-graph.js';

// Compiled to dist/test/unit/, three levels below the repository root.
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Folders whose code is tested elsewhere: the launcher page runs in a browser (test/e2e/launcher*.test.ts). */
const ELSEWHERE = new Set(['ui']);

/** A folder has logic when some file in it declares a function or a class (types and constant lists are not logic). */
const hasLogic = (dir: string) =>
  tsFiles(dir).some((f) =>
    /^\s*(export\s+)?(abstract\s+)?(async\s+)?(function|class)\s|^\s*(export\s+)?const\s+\w+\s*=\s*(async\s*)?\([^)]*\)\s*(:[^=]+)?=>/m.test(
      readFileSync(f, 'utf8'),
    ),
  );

describe('test/unit and test/integration mirror src/', () => {
  it('have a folder for every src folder with logic, two levels deep', () => {
    const missing: string[] = [];
    for (const top of readdirSync(join(ROOT, 'src'), { withFileTypes: true })) {
      if (!top.isDirectory() || ELSEWHERE.has(top.name)) continue;
      const folders = [
        top.name,
        ...readdirSync(join(ROOT, 'src', top.name), { withFileTypes: true })
          .filter((d) => d.isDirectory())
          .map((d) => `${top.name}/${d.name}`),
      ];
      for (const f of folders)
        if (
          hasLogic(join(ROOT, 'src', f)) &&
          !['unit', 'integration'].some((suite) => existsSync(join(ROOT, 'test', suite, f)))
        )
          missing.push(`src/${f}`);
    }
    assert.deepEqual(missing, []);
  });
});
