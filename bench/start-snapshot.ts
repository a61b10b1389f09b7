/**
 * Node's user-land start-up snapshot of hubapps-proxy, for start-cost.ts: the modules a start
 * needs are loaded when the snapshot is built (`node --snapshot-blob F --build-snapshot
 * entry.cjs`), and `node --snapshot-blob F ARGS` then runs main.js on the deserialised
 * heap. The builder takes one CommonJS file that requires only Node's own modules, hence
 * the esbuild bundle (main.js is imported lazily, so it runs only after deserialising).
 * On Node 20 the build fails on node:http, which the proxy needs from its first line of
 * work; the benchmark then reports why instead of figures.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';
import { PROXY_MAIN, type ProxyCommandLine } from '../src/proxy/command-line.js';
import { PROXY_NODE_FLAGS } from '../src/proxy/node-flags.js';

export type Snapshot = { line: (args: string[]) => ProxyCommandLine } | { failed: string };

export async function buildProxySnapshot(dir: string): Promise<Snapshot> {
  const proxyDir = dirname(PROXY_MAIN);
  const entry = join(dir, 'snapshot-entry.mjs');
  writeFileSync(
    entry,
    [
      ...['supervisor.js', 'http/forward.js', 'request.js'].map(
        (m) => `import ${JSON.stringify(join(proxyDir, m))};`,
      ),
      "import { startupSnapshot } from 'node:v8';",
      `startupSnapshot.setDeserializeMainFunction(() => import(${JSON.stringify(join(proxyDir, 'main.js'))}));`,
    ].join('\n'),
  );
  const bundle = join(dir, 'snapshot-entry.cjs');
  await build({
    entryPoints: [entry],
    outfile: bundle,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20.19',
    external: ['node-pty', 'bufferutil', 'utf-8-validate'],
    // The proxy's own directory stands in for import.meta.url: its YAML worker is there.
    define: { 'import.meta.url': JSON.stringify(`file://${join(proxyDir, 'main.js')}`) },
    logLevel: 'error',
  });
  const blob = join(dir, 'hubapps-proxy.blob');
  const made = spawnSync(
    process.execPath,
    [...PROXY_NODE_FLAGS, '--snapshot-blob', blob, '--build-snapshot', bundle],
    { encoding: 'utf8', timeout: 60_000 },
  );
  if (made.status !== 0) return { failed: reasonOf(made.stderr) };
  return {
    line: (args) => ({
      node: process.execPath,
      nodeFlags: [...PROXY_NODE_FLAGS, '--snapshot-blob'],
      main: blob,
      args,
    }),
  };
}

/** The builder's error in a line, without its warnings about modules it has not verified. */
function reasonOf(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim());
  const error = lines.find((l) => /^\w*Error\b|not serialized|^#\s*Fatal/.test(l));
  return (
    error ??
    lines.find((l) => l && !/Warning|It may|To request|--trace-warnings/.test(l)) ??
    'no reason given'
  );
}
