import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PROTOCOL_VERSION } from '../../../src/proxy/protocol.js';
import { cliWrapperScript, parseWrapper, proxyWrapperScript, wrapperScript } from '../../../src/ops/proxy-wrapper.js';
import { VERSION } from '../../../src/version.js';
import { tmpDir, type TmpDir } from '../../helpers/index.js';
import { repoRoot } from '../../system/harness-install.js';

const run = promisify(execFile);

describe('the wrappers install writes', () => {
  let dir: TmpDir;
  before(async () => (dir = await tmpDir('wrapper')));
  after(() => dir.remove());

  it('writes the proxy wrapper as #!/bin/sh + exec with absolute paths, the proxy\'s V8 flags and the fixed arguments', () => {
    const text = proxyWrapperScript('/usr/bin/node', '/usr/lib/hubapps/lib', '/etc/hubapps/apps.d');
    assert.equal(
      text,
      '#!/bin/sh\nexec /usr/bin/node --liftoff-only --max-semi-space-size=1 /usr/lib/hubapps/lib/dist/src/proxy/main.js --catalog-dir /etc/hubapps/apps.d --expect-user-check\n',
    );
    assert.deepEqual(parseWrapper(text), {
      node: '/usr/bin/node',
      nodeFlags: ['--liftoff-only', '--max-semi-space-size=1'],
      main: '/usr/lib/hubapps/lib/dist/src/proxy/main.js',
      args: ['--catalog-dir', '/etc/hubapps/apps.d', '--expect-user-check'],
    });
  });

  it('quotes words the shell would split or expand, and reads them back', () => {
    const target = { node: '/opt/my node/bin/node', main: "/srv/it's/main.js", args: ['--catalog-dir', '/etc/$HOME/apps.d'] };
    const text = wrapperScript(target);
    assert.match(text, /'\/opt\/my node\/bin\/node'/);
    assert.deepEqual(parseWrapper(text), target);
  });

  it('does not claim to understand a hand-written wrapper', () => {
    assert.equal(parseWrapper('#!/bin/bash\nexec node main.js\n'), undefined);
    assert.equal(parseWrapper('#!/bin/sh\nexec $NODE main.js\n'), undefined);
  });

  it('gives a proxy wrapper that really starts the proxy (op version answers protocol 1)', async () => {
    const path = join(dir.path, 'hubapps-proxy');
    writeFileSync(path, proxyWrapperScript(process.execPath, repoRoot(), dir.path));
    chmodSync(path, 0o755);
    const child = execFile(path, [], { encoding: 'utf8' });
    child.stdin!.end(JSON.stringify({ op: 'version', version: PROTOCOL_VERSION }));
    const stdout = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: string) => (out += d));
      child.once('error', reject);
      child.once('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}`))));
    });
    assert.equal(JSON.parse(stdout).protocol, PROTOCOL_VERSION);
  });

  it('gives a CLI wrapper that passes its arguments on', async () => {
    const path = join(dir.path, 'hubapps');
    writeFileSync(path, cliWrapperScript(process.execPath, repoRoot()));
    chmodSync(path, 0o755);
    assert.equal((await run(path, ['version'])).stdout.trim(), VERSION);
  });
});
