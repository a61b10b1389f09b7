import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A temporary directory for the describe block that calls this (made before its tests,
 * removed after them), and `file(text)`, which writes text to a fresh hubapps-N.yaml in it.
 */
export function scratchFiles(prefix: string): { readonly dir: string; file(text: string): string } {
  let dir = '';
  let n = 0;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), prefix));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  return {
    get dir() {
      return dir;
    },
    file(text: string) {
      const path = join(dir, `hubapps-${++n}.yaml`);
      writeFileSync(path, text);
      return path;
    },
  };
}
