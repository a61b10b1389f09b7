import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PROTOCOL_VERSION } from '../../../../src/protocol/wire.js';
import {
  cliWrapperScript,
  parseWrapper,
  proxyWrapperScript,
  wrapperScript,
} from '../../../../src/ops/install/proxy-wrapper.js';
import { VERSION } from '../../../../src/version.js';
import { tmpDir, type TmpDir } from '../../../helpers/index.js';
import { repoRoot } from '../../../system/harness-install.js';

const run = promisify(execFile);

describe('the wrappers install writes', () => {
  let dir: TmpDir;
  before(async () => (dir = await tmpDir('wrapper')));
  after(() => dir.remove());

  it("writes the proxy wrapper as #!/bin/sh + exec env -i with absolute paths, the proxy's V8 flags and the fixed arguments", () => {
    assert.equal(
      proxyWrapperScript('/usr/bin/node', '/usr/lib/hubapps/lib', '/etc/hubapps/apps.d', {
        allowedGroup: 'hubapps-users',
        minUid: 1000,
      }),
      '#!/bin/sh\nexec /usr/bin/env -i PATH=/usr/bin:/bin LANG=C.UTF-8 /usr/bin/node --liftoff-only --max-semi-space-size=1 /usr/lib/hubapps/lib/dist/src/proxy/hubapps-proxy.cjs' +
        ' --catalog-dir /etc/hubapps/apps.d --expect-user-check --allowed-group hubapps-users --min-uid 1000\n',
    );
  });

  it('reads back the clean environment and V8 flags of a proxy wrapper, so doctor finds node and the arguments', () => {
    const text = proxyWrapperScript(
      '/usr/bin/node',
      '/usr/lib/hubapps/lib',
      '/etc/hubapps/apps.d',
      { allowedGroup: 'g', minUid: 2000 },
    );
    assert.deepEqual(parseWrapper(text), {
      cleanEnv: ['PATH=/usr/bin:/bin', 'LANG=C.UTF-8'],
      node: '/usr/bin/node',
      nodeFlags: ['--liftoff-only', '--max-semi-space-size=1'],
      main: '/usr/lib/hubapps/lib/dist/src/proxy/hubapps-proxy.cjs',
      args: [
        '--catalog-dir',
        '/etc/hubapps/apps.d',
        '--expect-user-check',
        '--allowed-group',
        'g',
        '--min-uid',
        '2000',
      ],
    });
  });

  it('quotes words the shell would split or expand, and reads them back', () => {
    const target = {
      node: '/opt/my node/bin/node',
      main: "/srv/it's/main.js",
      args: ['--catalog-dir', '/etc/$HOME/apps.d'],
    };
    const text = wrapperScript(target);
    assert.match(text, /'\/opt\/my node\/bin\/node'/);
    assert.deepEqual(parseWrapper(text), target);
  });

  it('does not claim to understand a hand-written wrapper', () => {
    assert.equal(parseWrapper('#!/bin/bash\nexec node main.js\n'), undefined);
    assert.equal(parseWrapper('#!/bin/sh\nexec $NODE main.js\n'), undefined);
  });

  /** Run a proxy wrapper with op 'version' and a caller environment that would break node if it got through. */
  const runVersion = (policy: { allowedGroup: string; minUid: number }) => {
    const path = join(dir.path, 'hubapps-proxy');
    writeFileSync(path, proxyWrapperScript(process.execPath, repoRoot(), dir.path, policy));
    chmodSync(path, 0o755);
    const env = { ...process.env, NODE_OPTIONS: '--require=/nonexistent/hubapps-t-preload.cjs' };
    const child = execFile(path, [], { encoding: 'utf8', env });
    child.stdin!.end(JSON.stringify({ op: 'version', version: PROTOCOL_VERSION }));
    return new Promise<{ code: number | null; stdout: string; stderr: string }>(
      (resolve, reject) => {
        let stdout = '';
        let stderr = '';
        child.stdout!.on('data', (d: string) => (stdout += d));
        child.stderr!.on('data', (d: string) => (stderr += d));
        child.once('error', reject);
        child.once('close', (code) => resolve({ code, stdout, stderr }));
      },
    );
  };
  const me = userInfo();
  const myGroup = () => execFileSync('id', ['-gn'], { encoding: 'utf8' }).trim();

  it("gives a proxy wrapper that starts node with a clean environment and runs the proxy's own checks first", async () => {
    if (me.uid === 0) {
      const refused = await runVersion({ allowedGroup: myGroup(), minUid: 1000 });
      assert.doesNotMatch(
        refused.stderr,
        /Cannot find module|preload/,
        'NODE_OPTIONS reached node',
      );
      assert.equal(refused.code, 5, refused.stderr);
      assert.match(refused.stderr, /never runs apps as root/);
      return;
    }
    const ok = await runVersion({ allowedGroup: myGroup(), minUid: me.uid });
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(JSON.parse(ok.stdout).protocol, PROTOCOL_VERSION);
    const low = await runVersion({ allowedGroup: myGroup(), minUid: me.uid + 1 });
    assert.equal(low.code, 5);
    assert.match(low.stderr, /below min_uid/);
  });

  it('gives a CLI wrapper that passes its arguments on', async () => {
    const path = join(dir.path, 'hubapps');
    writeFileSync(path, cliWrapperScript(process.execPath, repoRoot()));
    chmodSync(path, 0o755);
    assert.equal((await run(path, ['version'])).stdout.trim(), VERSION);
  });
});
