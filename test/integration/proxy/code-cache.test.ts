import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, writeFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BUNDLE_FILE, CACHE_FILE } from '../../../src/proxy/code-cache.js';
import { PROXY_MAIN } from '../../../src/proxy/command-line.js';
import { PROXY_NODE_FLAGS } from '../../../src/proxy/node-flags.js';
import { tmpDir, type TmpDir } from '../../helpers/index.js';

const BUILT = dirname(PROXY_MAIN);
const VERSION = '{"op":"version","version":1}\n';
const REFUSED = /hubapps-proxy: V8 refused the code cache .*: compiling without it/;

function runVersion(main: string, flags: readonly string[]) {
  const out = spawnSync(process.execPath, [...flags, main], {
    input: VERSION,
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { status: out.status, answer: out.stdout, log: out.stderr };
}

describe('hubapps-proxy with the code cache the build made', () => {
  let dir: TmpDir;
  let copy: string;
  before(async () => {
    dir = await tmpDir('proxy-cache');
    // The loader finds the bundle and the cache beside itself; a copy can be damaged safely.
    for (const file of ['hubapps-proxy.cjs', BUNDLE_FILE, CACHE_FILE])
      copyFileSync(join(BUILT, file), join(dir.path, file));
    copy = join(dir.path, 'hubapps-proxy.cjs');
  });
  after(() => dir.remove());

  it("is a cache V8 takes when node runs with the proxy's V8 flags, as every launcher runs it", () => {
    const check = [
      `import { compileBundle, readCache } from ${JSON.stringify(pathToFileURL(join(BUILT, 'code-cache.js')).href)};`,
      `const b = compileBundle(${JSON.stringify(join(BUILT, BUNDLE_FILE))}, readCache(${JSON.stringify(join(BUILT, CACHE_FILE))}));`,
      'process.stdout.write(String(b.cacheRejected));',
    ].join('\n');
    const out = spawnSync(
      process.execPath,
      [...PROXY_NODE_FLAGS, '--input-type=module', '-e', check],
      { encoding: 'utf8', timeout: 20_000 },
    );
    assert.equal(out.stdout, 'false', out.stderr);
    const run = runVersion(PROXY_MAIN, PROXY_NODE_FLAGS);
    assert.equal(run.status, 0, run.log);
    assert.doesNotMatch(run.log, REFUSED);
  });

  it('makes a cache in one process that the next node, with the same flags, takes instead of compiling', () => {
    const bundle = join(dir.path, 'small.cjs');
    writeFileSync(bundle, 'module.exports = (() => [1, 2, 3].map((n) => n * 2))();');
    const codeCache = JSON.stringify(pathToFileURL(join(BUILT, 'code-cache.js')).href);
    const node = (script: string) =>
      spawnSync(process.execPath, [...PROXY_NODE_FLAGS, '--input-type=module', '-e', script], {
        encoding: 'utf8',
        timeout: 20_000,
      });
    const made = node(
      `import { writeFileSync } from 'node:fs'; import { compileBundle } from ${codeCache};
       const b = compileBundle(${JSON.stringify(bundle)}); b.run();
       writeFileSync(${JSON.stringify(`${bundle}.v8cache`)}, b.makeCache());`,
    );
    assert.equal(made.status, 0, made.stderr);
    const used = node(
      `import { compileBundle, readCache } from ${codeCache};
       const b = compileBundle(${JSON.stringify(bundle)}, readCache(${JSON.stringify(`${bundle}.v8cache`)}));
       process.stdout.write(String(b.cacheRejected));`,
    );
    assert.equal(used.stdout, 'false', used.stderr);
  });

  it('answers without it, with one line in the log, when node runs with other V8 flags', () => {
    const run = runVersion(copy, []);
    assert.equal(run.status, 0, run.log);
    assert.equal(JSON.parse(run.answer).node, process.version);
    assert.match(run.log, REFUSED);
  });

  it('answers without it, with one line in the log, when the cache file is damaged', () => {
    writeFileSync(join(dir.path, CACHE_FILE), 'this is no V8 code cache');
    const run = runVersion(copy, PROXY_NODE_FLAGS);
    assert.equal(run.status, 0, run.log);
    assert.equal(JSON.parse(run.answer).node, process.version);
    assert.match(run.log, REFUSED);
  });

  it('answers without a cache file at all, and has nothing to say about it', () => {
    rmSync(join(dir.path, CACHE_FILE));
    const run = runVersion(copy, PROXY_NODE_FLAGS);
    assert.equal(run.status, 0, run.log);
    assert.equal(JSON.parse(run.answer).node, process.version);
    assert.equal(run.log, '');
  });
});
