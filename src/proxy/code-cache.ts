/**
 * hubapps-proxy compiled with a V8 code cache: the CommonJS bundle scripts/bundle-proxy.ts
 * writes, run through vm.Script with the cache made at build time from a proxy start, so
 * a start deserialises the functions it needs instead of parsing and compiling them
 * (docs/benchmarks.md, "Where a proxy start goes"). V8 checks the cache against its own
 * version, the V8 flags and the source, and compiles normally when it does not match:
 * a cache from another node only costs the time to read it.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { Script } from 'node:vm';

/** Beside the loader that runs them (dist/src/proxy/). */
export const BUNDLE_FILE = 'hubapps-proxy-bundle.cjs';
export const CACHE_FILE = 'hubapps-proxy-bundle.v8cache';

/** What node's own CommonJS loader gives a module; the same text at build and at run, as the cache is bound to it. */
const HEAD = '(function (exports, require, module, __filename, __dirname) {';
const TAIL = '\n})';

export interface CompiledBundle {
  /** true: the cache did not match and V8 compiled the bundle itself; undefined: no cache given. */
  cacheRejected: boolean | undefined;
  /** The cache of what this process has compiled so far: everything a run has needed, once it ran. */
  makeCache(): Buffer;
  /** Runs the bundle as a CommonJS module at its own path. */
  run(): void;
}

export function compileBundle(file: string, cache?: Buffer): CompiledBundle {
  const script = new Script(`${HEAD}${readFileSync(file, 'utf8')}${TAIL}`, {
    filename: file,
    cachedData: cache,
  });
  return {
    cacheRejected: script.cachedDataRejected,
    makeCache: () => script.createCachedData(),
    run: () => {
      const module = { exports: {} };
      const fn = script.runInThisContext() as (...args: unknown[]) => void;
      fn.call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
    },
  };
}

/** The cache file's bytes; none when it is missing or unreadable, and the bundle compiles without it. */
export function readCache(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch {
    return undefined;
  }
}
