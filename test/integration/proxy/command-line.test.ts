import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import {
  PROXY_ESM_MAIN,
  PROXY_MAIN,
  PROXY_MODULES_MAIN,
  proxyArgs,
  proxyCommandLine,
  shellCommand,
  spawnCommand,
} from '../../../src/proxy/command-line.js';
import { PROXY_NODE_FLAGS } from '../../../src/proxy/node-flags.js';
import { jobScript } from '../../../src/proxy/node/slurm-jobs.js';
import { assertRunsWithNodeFlags } from '../../helpers/node-flags.js';

describe('the hubapps-proxy command line', () => {
  it('runs this node with the V8 flags before the entry point beside it, then the arguments', () => {
    const { file, args } = spawnCommand(proxyCommandLine(proxyArgs('/etc/hubapps/apps.d')));
    assert.equal(file, process.execPath);
    assert.deepEqual(args, [
      ...PROXY_NODE_FLAGS,
      PROXY_MAIN,
      '--catalog-dir',
      '/etc/hubapps/apps.d',
    ]);
    assert.match(PROXY_MAIN, /\/src\/proxy\/hubapps-proxy\.cjs$/);
    assert.ok(existsSync(PROXY_MAIN), `${PROXY_MAIN} is missing: npm run build bundles it`);
  });

  it('bundles the proxy (with its code cache, and as ES modules) so that it answers as its separate modules do', () => {
    const run = (main: string, request: string) => {
      const { file, args } = spawnCommand(proxyCommandLine(proxyArgs('/nonexistent'), { main }));
      const out = spawnSync(file, args, { input: request, encoding: 'utf8', timeout: 20_000 });
      // The log's timestamps differ from run to run; the rest of the answer must not.
      return { status: out.status, stdout: out.stdout, stderr: out.stderr.replace(/^\S+Z /gm, '') };
    };
    for (const request of ['{"op":"version","version":1}\n', '{"op":"start","version":1}\n']) {
      const bundled = run(PROXY_MAIN, request);
      assert.deepEqual(bundled, run(PROXY_MODULES_MAIN, request), request);
      assert.deepEqual(run(PROXY_ESM_MAIN, request), bundled, request);
      assert.ok(bundled.stdout.length + bundled.stderr.length > 0, `no answer to ${request}`);
    }
  });

  it('passes the self-check policy only when the proxy runs as someone else', () => {
    assert.deepEqual(proxyArgs('/c'), ['--catalog-dir', '/c']);
    assert.deepEqual(proxyArgs('/c', { allowedGroup: 'hubapps-users', minUid: 1000 }), [
      '--catalog-dir',
      '/c',
      '--expect-user-check',
      '--allowed-group',
      'hubapps-users',
      '--min-uid',
      '1000',
    ]);
  });

  it('keeps the V8 flags when another node or entry point is named', () => {
    const line = proxyCommandLine([], {
      node: '/opt/node/bin/node',
      main: '/usr/lib/hubapps/lib/dist/src/proxy/main.js',
    });
    assert.deepEqual(line.nodeFlags, PROXY_NODE_FLAGS);
    assertRunsWithNodeFlags(spawnCommand(line).args, line.main);
  });

  it('writes one shell line, quoting only the words that need it', () => {
    const line = proxyCommandLine(proxyArgs("/srv/it's apps"), {
      node: '/usr/bin/node',
      main: '/lib/main.js',
    });
    assert.equal(
      shellCommand(line),
      `/usr/bin/node ${PROXY_NODE_FLAGS.join(' ')} /lib/main.js --catalog-dir '/srv/it'\\''s apps'`,
    );
  });
});

describe("a Slurm job's script", () => {
  it("starts the job's proxy with the same V8 flags as a host proxy, its request on stdin", () => {
    const self = proxyCommandLine(
      proxyArgs('/etc/hubapps/apps.d', { allowedGroup: 'g', minUid: 1000 }),
      { node: '/usr/bin/node', main: '/lib/main.js' },
    );
    assert.equal(
      jobScript(self, '/home/alice/.hubapps/slurm/web-x.json'),
      `#!/bin/sh\nexec /usr/bin/node ${PROXY_NODE_FLAGS.join(' ')} /lib/main.js --catalog-dir /etc/hubapps/apps.d --expect-user-check --allowed-group g --min-uid 1000` +
        ' < /home/alice/.hubapps/slurm/web-x.json\n',
    );
  });
});
