/**
 * Build step of hubapps-proxy, which starts for every server, so its start-up is what
 * 20 concurrent starts on a small host spend their CPU on (docs/benchmarks.md, "Where a
 * proxy start goes"). Writes into dist/src/proxy/, beside the modules tsc compiled, so what
 * the proxy finds relative to itself (its YAML worker, prepare-worker.js) is where it was:
 * - hubapps-proxy-bundle.cjs: the compiled proxy (main.js and what it imports, the npm
 *   packages included but zod and yaml) as one CommonJS file, and
 *   hubapps-proxy-bundle.v8cache, the V8 code cache of the functions one real start
 *   compiles (proxy-cache/train.ts);
 * - hubapps-proxy.cjs: the entry point every launcher runs (src/proxy/cached-main.ts),
 *   which compiles the bundle with that cache, or without it when V8 refuses it;
 * - hubapps-proxy.js and its chunks: the same proxy as an ES module bundle whose chunks load
 *   only for the operation that needs them, the entry point before the code cache; the
 *   benchmark weighs the cache against it.
 * Node 20's start-up snapshot (--build-snapshot) cannot hold the proxy: its builder fails
 * on node:http, which the proxy needs from its first line of work.
 */
import { readdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions } from 'esbuild';
import { BUNDLE_FILE, CACHE_FILE } from '../src/proxy/code-cache.js';
import { trainProxyCache } from './proxy-cache/train.js';

// Compiled to dist/scripts/; the proxy is in dist/src/proxy/.
const proxyDir = fileURLToPath(new URL('../src/proxy/', import.meta.url));
const PREFIX = 'hubapps-proxy';

for (const file of readdirSync(proxyDir)) {
  if (file.startsWith(PREFIX)) rmSync(`${proxyDir}${file}`);
}

const common: BuildOptions = {
  bundle: true,
  platform: 'node',
  target: 'node20.19',
  // node-pty is a native addon, found in node_modules at run time; ws asks for its two
  // optional native helpers inside a try and does without them.
  external: ['node-pty', 'bufferutil', 'utf-8-validate'],
  legalComments: 'none',
  logLevel: 'warning',
};

await build({
  ...common,
  entryPoints: { [PREFIX]: `${proxyDir}main.js` },
  outdir: proxyDir,
  chunkNames: `${PREFIX}-[hash]`,
  splitting: true,
  format: 'esm',
  // The CommonJS packages in the bundle (undici, ws, yaml) call require() for Node's own modules.
  banner: {
    js: "import { createRequire as __hubappsRequire } from 'node:module'; const require = __hubappsRequire(import.meta.url);",
  },
});

// CommonJS has no import.meta: the modules' own URL and resolve() come from the file's path.
// One file is compiled (or deserialised) whole and its source stays in memory for as long as
// the proxy runs: zod and yaml, a megabyte that only the Slurm operations need, stay in
// node_modules, where those short-lived runs require() them (5 MB less RSS per idle proxy).
const commonJs: BuildOptions = {
  ...common,
  external: [...(common.external ?? []), 'zod', 'yaml'],
  format: 'cjs',
  define: { 'import.meta.url': '__hubappsUrl', 'import.meta.resolve': '__hubappsResolve' },
  banner: {
    js: [
      "const __hubappsUrl = require('node:url').pathToFileURL(__filename).href;",
      "const __hubappsResolve = (s) => require('node:url').pathToFileURL(require.resolve(s)).href;",
    ].join(' '),
  },
};
await build({
  ...commonJs,
  entryPoints: [`${proxyDir}main.js`],
  outfile: `${proxyDir}${BUNDLE_FILE}`,
});
await build({
  ...commonJs,
  entryPoints: [`${proxyDir}cached-main.js`],
  outfile: `${proxyDir}${PREFIX}.cjs`,
});
await trainProxyCache(`${proxyDir}${BUNDLE_FILE}`, `${proxyDir}${CACHE_FILE}`);
