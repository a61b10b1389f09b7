/**
 * The proxy of a cache-training start (train.ts): `node FLAGS run-bundle.js BUNDLE CACHE
 * PROXY-ARGS...` runs the bundle as the installed loader does, and when the proxy exits,
 * writes the code cache of everything the start compiled to CACHE.
 */
import { writeFileSync } from 'node:fs';
import { compileBundle } from '../../src/proxy/code-cache.js';

const [node, , bundleFile, cacheFile, ...proxyArgs] = process.argv;
if (!node || !bundleFile || !cacheFile) {
  process.stderr.write('usage: run-bundle.js BUNDLE CACHE PROXY-ARGS... < request.json\n');
  process.exit(2);
}
const bundle = compileBundle(bundleFile);
process.on('exit', () => writeFileSync(cacheFile, bundle.makeCache()));
process.argv = [node, bundleFile, ...proxyArgs];
bundle.run();
