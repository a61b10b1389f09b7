import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  readFileSync,
  readdirSync,
  mkdirSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { runInstall } from '../../../../src/ops/install/install.js';
import { bufferIo } from '../../../../src/ops/io.js';
import { requirePrerequisite, tmpDir, type TmpDir } from '../../../helpers/index.js';
import { repoRoot } from '../../../system/harness-install.js';

const ARGS = ['--service-user', 'nobody', '--allowed-group', 'nogroup'];
const HUB_PYTHON = '/usr/bin/python3';

async function install(root: string, extra: string[]): Promise<string> {
  const io = bufferIo();
  assert.equal(await runInstall(['--root', root, ...ARGS, ...extra], io), 0, io.stderr);
  return io.stdout;
}

/** Where Debian's python3 imports third-party modules from, asked the way an admin would. */
function purelib(): string {
  return execFileSync(
    HUB_PYTHON,
    ['-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])'],
    { encoding: 'utf8' },
  ).trim();
}

/** A stand-in interpreter that answers install's question with `facts`. */
function fakePython(dir: string, facts: object): string {
  const file = join(dir, 'python3');
  writeFileSync(file, `#!/bin/sh\necho '${JSON.stringify(facts)}'\n`, { mode: 0o755 });
  return file;
}

describe('hubapps install --jupyterhub-spawner (a scratch root)', () => {
  let dir: TmpDir;
  let root: string;
  before(function () {
    let hasHub = false;
    try {
      execFileSync(HUB_PYTHON, ['-c', 'import jupyterhub']);
      hasHub = true;
    } catch {
      // reported below
    }
    requirePrerequisite(
      this,
      hasHub,
      `needs Debian's jupyterhub package (${HUB_PYTHON} -c 'import jupyterhub')`,
    );
  });
  beforeEach(async () => {
    dir = await tmpDir('install-spawner');
    root = join(dir.path, 'root');
  });
  afterEach(() => dir.remove());

  it("puts HubappsSpawner where Debian's python3 imports it (not dpkg's directory), with a root-only token and the credential drop-in", async () => {
    const out = await install(root, ['--jupyterhub-spawner']);
    const lib = purelib();
    assert.doesNotMatch(lib, /^\/usr\/lib\/python3/, 'never into the directory dpkg owns');
    const installed = join(root, lib, 'hubapps_spawner.py');
    assert.equal(
      readFileSync(installed, 'utf8'),
      readFileSync(join(repoRoot(), 'src/jupyterhub/hubapps_spawner.py'), 'utf8'),
    );
    assert.equal(lstatSync(installed).mode & 0o7777, 0o644);
    assert.match(out, new RegExp(`done\\s+HubappsSpawner in ${lib}/hubapps_spawner\\.py`));
    assert.match(
      out,
      /\d\. HubappsSpawner: set jupyterhub\.spawner_token: credential:spawner-token in \/etc\/hubapps\/hubapps\.yaml/,
    );
    // The hub's Python imports it from there (the scratch root stands in for /).
    const imported = execFileSync(
      HUB_PYTHON,
      [
        '-c',
        'import sys; sys.path.insert(0, sys.argv[1]); import hubapps_spawner, jupyterhub.spawner; ' +
          'print(issubclass(hubapps_spawner.HubappsSpawner, jupyterhub.spawner.Spawner))',
        join(root, lib),
      ],
      { encoding: 'utf8' },
    );
    assert.equal(imported.trim(), 'True');

    const token = join(root, 'etc/hubapps/spawner-token');
    assert.match(readFileSync(token, 'utf8'), /^[0-9a-f]{64}\n$/);
    assert.equal(lstatSync(token).mode & 0o7777, 0o600);
    assert.match(
      readFileSync(
        join(root, 'etc/systemd/system/hubapps.service.d/jupyterhub-spawner.conf'),
        'utf8',
      ),
      /^\[Service\]\nLoadCredential=spawner-token:\/etc\/hubapps\/spawner-token\n$/m,
    );
  });

  it('never replaces the token, and changes nothing on a second run', async () => {
    await install(root, ['--jupyterhub-spawner']);
    const token = join(root, 'etc/hubapps/spawner-token');
    writeFileSync(token, 'the-hubs-token\n', { mode: 0o600 });
    const second = await install(root, ['--jupyterhub-spawner']);
    assert.doesNotMatch(second, /^\s+(done|would)\s/m, second);
    assert.match(second, /ok\s+spawner token \/etc\/hubapps\/spawner-token exists: left as it is/);
    assert.equal(readFileSync(token, 'utf8'), 'the-hubs-token\n');
  });

  it('writes nothing with --dry-run and says what it would do', async () => {
    mkdirSync(root);
    const io = bufferIo();
    assert.equal(
      await runInstall(['--root', root, '--dry-run', ...ARGS, '--jupyterhub-spawner'], io),
      0,
    );
    assert.deepEqual(readdirSync(root), []);
    assert.match(io.stdout, /would\s+HubappsSpawner in \S+\/hubapps_spawner\.py/);
    assert.match(io.stdout, /would\s+new spawner token in \/etc\/hubapps\/spawner-token/);
  });

  it("refuses dpkg's directory, a Python without JupyterHub and a missing Python, each saying why", async () => {
    const dpkg = fakePython(dir.path, {
      purelib: '/usr/lib/python3/dist-packages',
      path: ['/usr/lib/python3/dist-packages'],
      jupyterhub: true,
    });
    let out = await install(root, ['--jupyterhub-spawner', '--hub-python', dpkg]);
    assert.match(
      out,
      /skip\s+hubapps_spawner\.py not installed: .*\/usr\/lib\/python3\/dist-packages is dpkg's/,
    );
    assert.equal(existsSync(join(root, 'usr/lib/python3')), false);
    // The token and drop-in do not depend on where the module goes.
    assert.ok(existsSync(join(root, 'etc/hubapps/spawner-token')));

    const noHub = fakePython(dir.path, { purelib: '/opt/x', path: ['/opt/x'], jupyterhub: false });
    out = await install(root, ['--jupyterhub-spawner', '--hub-python', noHub]);
    assert.match(out, /skip\s+hubapps_spawner\.py not installed: \S+ cannot import jupyterhub/);

    out = await install(root, ['--jupyterhub-spawner', '--hub-python', '/nonexistent/python3']);
    assert.match(
      out,
      /skip\s+hubapps_spawner\.py not installed: cannot ask \/nonexistent\/python3 .*--hub-python PATH/,
    );
  });

  it('takes --hub-python only with --jupyterhub-spawner, and only as an absolute path', async () => {
    await assert.rejects(
      install(root, ['--hub-python', HUB_PYTHON]),
      /--hub-python goes with --jupyterhub-spawner/,
    );
    await assert.rejects(
      install(root, ['--jupyterhub-spawner', '--hub-python', 'python3']),
      /--hub-python must be an absolute path/,
    );
  });
});
