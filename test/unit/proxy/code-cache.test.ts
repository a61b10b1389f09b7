import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileBundle, readCache } from '../../../src/proxy/code-cache.js';
import { tmpDir, type TmpDir } from '../../helpers/index.js';

// What the bundle sees of itself, reported through a global the test reads back.
const SOURCE = `globalThis.__codeCacheTest = {
  file: __filename, dir: __dirname, thisIsExports: this === exports,
  moduleExports: module.exports === exports, path: require('node:path').sep,
  answer: (() => 6 * 7)(),
};`;

interface Seen {
  file: string;
  dir: string;
  thisIsExports: boolean;
  moduleExports: boolean;
  path: string;
  answer: number;
}
const seen = () => (globalThis as unknown as { __codeCacheTest: Seen }).__codeCacheTest;

describe("the proxy's code cache (a CommonJS bundle compiled through vm.Script)", () => {
  let dir: TmpDir;
  let bundle: string;
  before(async () => {
    dir = await tmpDir('code-cache');
    bundle = join(dir.path, 'bundle.cjs');
    writeFileSync(bundle, SOURCE);
  });
  after(async () => {
    delete (globalThis as { __codeCacheTest?: unknown }).__codeCacheTest;
    await dir.remove();
  });

  it("runs the bundle as node's own loader runs a CommonJS file: its path, exports, module and require", () => {
    const compiled = compileBundle(bundle);
    assert.equal(compiled.cacheRejected, undefined, 'no cache given: nothing to refuse');
    compiled.run();
    assert.deepEqual(seen(), {
      file: bundle,
      dir: dir.path,
      thisIsExports: true,
      moduleExports: true,
      path: '/',
      answer: 42,
    });
  });

  // V8 keeps what a process has compiled and reuses it for the same source without looking at
  // a cache: each case compiles a source of its own, as each proxy process compiles its bundle once.
  it('compiles without the cache when V8 refuses it: damaged, or made for another source', () => {
    const fresh = (name: string, extra: string) => {
      const file = join(dir.path, name);
      writeFileSync(file, `${SOURCE}\n${extra}`);
      return file;
    };
    const otherCache = compileBundle(
      fresh('other.cjs', 'globalThis.__codeCacheTest.answer = 1;'),
    ).makeCache();
    assert.ok(otherCache.length > 0);
    for (const [what, cache] of [
      ['bytes that are no cache', Buffer.from('not a V8 code cache at all')],
      ['a cache for another file', otherCache],
    ] as const) {
      const compiled = compileBundle(fresh(`${what.length}.cjs`, `// ${what}`), cache);
      assert.equal(compiled.cacheRejected, true, what);
      compiled.run();
      assert.equal(seen().answer, 42, what);
    }
  });

  it('reads no cache from a missing or unreadable file, instead of failing the start', () => {
    assert.equal(readCache(join(dir.path, 'missing.v8cache')), undefined);
    assert.equal(readCache(dir.path), undefined, 'a directory');
    const file = join(dir.path, 'there.v8cache');
    writeFileSync(file, 'abc');
    assert.deepEqual(readCache(file), Buffer.from('abc'));
  });
});
