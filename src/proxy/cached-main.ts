/**
 * The entry point every launcher runs (scripts/bundle-proxy.ts turns it into
 * dist/src/proxy/hubapps-proxy.cjs): hubapps-proxy's bundle, compiled with the code cache
 * beside it (code-cache.ts). Reads only files in its own directory, which the
 * installation makes root's: nothing from the environment or the caller decides what runs.
 */
import { fileURLToPath } from 'node:url';
import { BUNDLE_FILE, CACHE_FILE, compileBundle, readCache } from './code-cache.js';
import { log } from './log.js';

const here = (name: string) => fileURLToPath(new URL(`./${name}`, import.meta.url));
const bundle = compileBundle(here(BUNDLE_FILE), readCache(here(CACHE_FILE)));
if (bundle.cacheRejected)
  log(
    'V8 refused the code cache (made by another node or with other V8 flags, or damaged): compiling without it',
  );
bundle.run();
