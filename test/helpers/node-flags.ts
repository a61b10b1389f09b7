import assert from 'node:assert/strict';
import { PROXY_MAIN } from '../../src/proxy/command-line.js';
import { PROXY_NODE_FLAGS } from '../../src/proxy/node-flags.js';

/**
 * What every command line that runs hubapps-proxy with node directly must hold: the proxy's
 * V8 flags right before the entry point (V8 reads them only from node's argv).
 */
export function assertRunsWithNodeFlags(args: readonly string[], main = PROXY_MAIN): void {
  assert.ok(PROXY_NODE_FLAGS.length > 0);
  const at = args.indexOf(main);
  assert.ok(at >= 0, `no ${main} in: ${args.join(' ')}`);
  assert.deepEqual(
    args.slice(Math.max(0, at - PROXY_NODE_FLAGS.length), at),
    [...PROXY_NODE_FLAGS],
    `the node flags before ${main} in: ${args.join(' ')}`,
  );
}
