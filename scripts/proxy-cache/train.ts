/**
 * Makes hubapps-proxy's V8 code cache (src/proxy/code-cache.ts) from one real start: the
 * bundle runs with the proxy's own V8 flags (the cache is bound to them) and a compiled
 * catalog, starts an app that is a few lines of node on a loopback port, and is stopped
 * once ready; what it compiled on the way is the cache. Failing to start fails the build,
 * as every server start would fail the same way.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { compileCatalog } from '../../src/catalog/compile.js';
import { freePort } from '../../src/net/ports.js';
import { signCall } from '../../src/protocol/challenge.js';
import { PROTOCOL_VERSION, type HealthReport, type StartRequest } from '../../src/protocol/wire.js';
import { proxyArgs } from '../../src/proxy/command-line.js';
import { PROXY_NODE_FLAGS } from '../../src/proxy/node-flags.js';

const RUN_BUNDLE = fileURLToPath(new URL('./run-bundle.js', import.meta.url));
// Without braces, which are placeholder syntax in the catalog.
const APP =
  "require('http').createServer((q, s) => s.end('ok')).listen(+process.argv[1], '127.0.0.1')";
const READY_WITHIN_MS = 20_000;

export async function trainProxyCache(bundleFile: string, cacheFile: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'hubapps-proxy-cache-'));
  try {
    writeFileSync(
      join(dir, 'train.yaml'),
      stringify({ title: 'Cache training', command: [process.execPath, '-e', APP, '{port}'] }),
    );
    compileCatalog(dir);
    const port = await freePort('127.0.0.1');
    const secret = randomBytes(24).toString('hex');
    const proxy = spawn(
      process.execPath,
      [...PROXY_NODE_FLAGS, RUN_BUNDLE, bundleFile, cacheFile, ...proxyArgs(dir)],
      { stdio: ['pipe', 'ignore', 'pipe'] },
    );
    let output = '';
    proxy.stderr.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-8000)));
    const exited = new Promise<number | null>((resolve) => proxy.once('exit', resolve));
    proxy.stdin.end(`${JSON.stringify(startRequest(port, secret))}\n`);
    try {
      await untilReady(port, secret, () => proxy.exitCode !== null);
    } catch (err) {
      proxy.kill('SIGKILL');
      await exited;
      throw new Error(`${(err as Error).message}; its output:\n${output}`, { cause: err });
    }
    proxy.kill('SIGTERM');
    const code = await exited;
    if (code !== 0 || statSync(cacheFile).size === 0)
      throw new Error(`the training proxy ended with ${code} and no cache; its output:\n${output}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function startRequest(port: number, secret: string): StartRequest {
  return {
    op: 'start',
    version: PROTOCOL_VERSION,
    server: { id: 1, user: 'build', name: 'cache' },
    app: 'train',
    options: {},
    port,
    secret,
    publicOrigin: 'http://127.0.0.1',
    allowedOrigins: [],
    prefix: '/apps/build/cache/',
    serviceUrl: 'http://127.0.0.1:9/services/hubapps/',
    stopGraceMs: 1000,
    readyTimeoutMs: READY_WITHIN_MS,
    framing: { frames: 'server', popups: 'isolate' },
    logMaxBytes: 1 << 20,
  };
}

async function untilReady(port: number, secret: string, exited: () => boolean): Promise<void> {
  const t0 = performance.now();
  while (performance.now() - t0 < READY_WITHIN_MS) {
    if (exited()) throw new Error('the cache-training proxy exited before its app was ready');
    try {
      const res = await fetch(`http://127.0.0.1:${port}/_hubapps/health`, {
        headers: { authorization: signCall(secret, 'GET', '/_hubapps/health').header },
      });
      if (((await res.json()) as HealthReport).state === 'ready') return;
    } catch {
      // Not listening yet.
    }
    await sleep(10);
  }
  throw new Error(
    `the cache-training proxy's app was not ready within ${READY_WITHIN_MS / 1000} s`,
  );
}
