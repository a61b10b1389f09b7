/**
 * Build step of hubapps-proxy: bundles the compiled proxy (dist/src/proxy/main.js and what it
 * imports, the npm packages included) into dist/src/proxy/hubapps-proxy.js and a few chunks
 * beside it, which load only for the operation that needs them. A proxy starts for every
 * server, and one file instead of some hundred modules saves about 13% of a start, wall time
 * and CPU (docs/benchmarks.md, "Where a proxy start goes"). The chunks sit in the proxy's own folder,
 * so what the proxy finds relative to itself (its YAML worker) is where it was before.
 */
import { readdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

// Compiled to dist/scripts/; the proxy is in dist/src/proxy/.
const proxyDir = fileURLToPath(new URL('../src/proxy/', import.meta.url));
const PREFIX = 'hubapps-proxy';

for (const file of readdirSync(proxyDir)) {
  if (file.startsWith(PREFIX)) rmSync(`${proxyDir}${file}`);
}

await build({
  entryPoints: { [PREFIX]: `${proxyDir}main.js` },
  outdir: proxyDir,
  chunkNames: `${PREFIX}-[hash]`,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  // node-pty is a native addon, found in node_modules at run time; ws asks for its two
  // optional native helpers inside a try and does without them.
  external: ['node-pty', 'bufferutil', 'utf-8-validate'],
  // The CommonJS packages in the bundle (undici, ws, yaml) call require() for Node's own modules.
  banner: {
    js: "import { createRequire as __hubappsRequire } from 'node:module'; const require = __hubappsRequire(import.meta.url);",
  },
  legalComments: 'none',
  logLevel: 'warning',
});
