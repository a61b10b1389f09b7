import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadCatalog } from '../../../../src/catalog/load.js';
import { bufferIo } from '../../../../src/ops/io.js';
import { appName, runMigrateConf } from '../../../../src/ops/migrate/migrate-conf.js';
import { tmpDir, type TmpDir } from '../../../helpers/index.js';
import { repoRoot } from '../../../system/harness-install.js';

const GOOD = `# example.conf.py in /usr/local/etc/jupyter/standalone
from utils import *
custom_check_origin_patch()
c.StandaloneProxyServer.command = [
    "/usr/bin/python3", "-m", "http.server", "{port}"
]
c.StandaloneProxyServer.launcher_entry = {"title": "Files"}
`;
const BAD = `import os
c.StandaloneProxyServer.command = ["/usr/bin/env", os.getcwd()]
`;

describe('hubapps migrate-conf', () => {
  let dir: TmpDir;
  let src: string;
  let out: string;
  beforeEach(async () => {
    dir = await tmpDir('migrate');
    src = join(dir.path, 'standalone');
    out = join(dir.path, 'apps.d');
    mkdirSync(src);
    writeFileSync(join(src, 'files.conf.py'), GOOD);
    writeFileSync(join(src, 'broken.conf.py'), BAD);
    writeFileSync(join(src, 'utils.py'), 'def custom_check_origin_patch(): pass\n');
  });
  afterEach(() => dir.remove());

  it('writes the good files, refuses the bad one naming file:line, and exits 1 (through the real CLI)', async () => {
    const cli = join(repoRoot(), 'dist', 'src', 'cli.js');
    const run = await promisify(execFile)(process.execPath, [
      cli,
      'migrate-conf',
      src,
      '--out',
      out,
    ]).then(
      () => assert.fail('migrate-conf exited 0 although a file was refused'),
      (err: { code: number; stdout: string }) => err,
    );
    assert.equal(run.code, 1);
    assert.match(
      run.stdout,
      /REFUSED broken\.conf\.py: not converted\n\s+broken\.conf\.py:1: `import os`: imports cannot be translated/,
    );
    assert.match(run.stdout, /broken\.conf\.py:2: .*'os' is a variable or a function/);
    assert.match(run.stdout, /ok\s+files\.conf\.py -> .*files\.yaml/);
    assert.equal(existsSync(join(out, 'broken.yaml')), false);
    const text = readFileSync(join(out, 'files.yaml'), 'utf8');
    assert.match(
      text,
      new RegExp(`^# Converted by \`hubapps migrate-conf\` from ${join(src, 'files.conf.py')}`),
    );
    assert.match(text, /#\s+line 3: `custom_check_origin_patch\(\)`: .*checks the Origin/);
  });

  it('writes app files the catalog loads as they are', async () => {
    await runMigrateConf([src, '--out', out], bufferIo());
    const app = loadCatalog(out).get('files');
    assert.equal(app?.title, 'Files');
    assert.deepEqual(app?.command, ['/usr/bin/python3', '-m', 'http.server', '{port}']);
  });

  it('writes nothing with --dry-run and prints the app file instead', async () => {
    const io = bufferIo();
    assert.equal(await runMigrateConf([src, '--out', out, '--dry-run'], io), 1);
    assert.equal(existsSync(out), false);
    assert.match(io.stdout, /\| title: Files/);
  });

  it('exits 0 when every file converts, and leaves an identical file alone on a second run', async () => {
    const io = bufferIo();
    assert.equal(
      await runMigrateConf([join(src, 'files.conf.py'), '--out', out], io),
      0,
      io.stdout,
    );
    const first = readFileSync(join(out, 'files.yaml'), 'utf8');
    assert.equal(await runMigrateConf([join(src, 'files.conf.py'), '--out', out], bufferIo()), 0);
    assert.equal(readFileSync(join(out, 'files.yaml'), 'utf8'), first);
  });

  it('does not replace an app file an admin changed, unless --force', async () => {
    mkdirSync(out);
    writeFileSync(join(out, 'files.yaml'), 'title: mine\ncommand: [/bin/true]\n');
    const io = bufferIo();
    assert.equal(await runMigrateConf([join(src, 'files.conf.py'), '--out', out], io), 1);
    assert.match(io.stdout, /files\.yaml exists and differs/);
    assert.equal(
      readFileSync(join(out, 'files.yaml'), 'utf8'),
      'title: mine\ncommand: [/bin/true]\n',
    );
    assert.equal(
      await runMigrateConf([join(src, 'files.conf.py'), '--out', out, '--force'], bufferIo()),
      0,
    );
    assert.match(readFileSync(join(out, 'files.yaml'), 'utf8'), /title: Files/);
  });

  it('refuses an app whose command uses a placeholder hubapps does not know', async () => {
    writeFileSync(
      join(src, 'odd.conf.py'),
      'c.StandaloneProxyServer.command = ["/bin/app", "--port={prot}"]\n',
    );
    const io = bufferIo();
    await runMigrateConf([src, '--out', out], io);
    assert.match(io.stdout, /REFUSED odd\.conf\.py[\s\S]*unknown placeholder '\{prot\}'/);
    assert.equal(existsSync(join(out, 'odd.yaml')), false);
  });

  it('makes app names out of file names and refuses two files that would get the same one', async () => {
    assert.equal(appName('My App'), 'my-app');
    assert.equal(appName('..x..y'), 'x.y');
    writeFileSync(join(src, 'Files.conf.py'), GOOD);
    const io = bufferIo();
    await runMigrateConf([src, '--out', out], io);
    assert.match(
      io.stdout,
      /REFUSED files\.conf\.py[\s\S]*Files\.conf\.py also becomes the app 'files'/,
    );
  });

  it('notes where a /proxy/PORT or jhproxy set-up went (user_ports, the new address form), and still converts the app', async () => {
    writeFileSync(
      join(src, 'dask.conf.py'),
      `c.StandaloneProxyServer.command = ["/opt/dask/bin/dask", "scheduler", "--dashboard-address=127.0.0.1:{port}"]
c.StandaloneProxyServer.environment = {"DASK_DISTRIBUTED__DASHBOARD__LINK": "/user/alice/proxy/8787/status"}
`,
    );
    const hubConf = join(dir.path, 'jupyterhub_config.py');
    writeFileSync(
      hubConf,
      "from jhproxy.handlers import ProxyTokenHandler\nc.JupyterHub.spawner_class = 'jhproxy.spawners.TokenizedDockerSpawner'\n",
    );
    const io = bufferIo();
    await runMigrateConf([src, '--out', out], io);
    assert.match(io.stdout, /ok\s+dask\.conf\.py ->/);
    assert.match(io.stdout, /note dask\.conf\.py:2: .*\/proxy\/PORT maps to .*user_ports/);
    assert.match(
      io.stdout,
      /Port proxy set-up found in dask\.conf\.py .*user_ports in hubapps\.yaml/,
    );
    assert.match(io.stdout, /\/apps\/alice\/SERVER\/ports\/PORT\//);
    assert.match(readFileSync(join(out, 'dask.yaml'), 'utf8'), /#\s+line 2: .*user_ports/);
    const hub = bufferIo();
    assert.equal(await runMigrateConf([hubConf, '--out', out], hub), 1);
    assert.match(
      hub.stdout,
      /note jupyterhub_config\.py:1: .*jhproxy's port proxy maps to user_ports/,
    );
    assert.match(hub.stdout, /note jupyterhub_config\.py:2: .*X-Proxy-Token/);
    assert.doesNotMatch(io.stdout + hub.stdout, /Port proxy set-up found in files\.conf\.py/);
  });

  it('says so when the directory has no *.conf.py files', async () => {
    await assert.rejects(runMigrateConf([out], bufferIo()), /cannot read|no \*\.conf\.py files/);
    mkdirSync(out);
    await assert.rejects(runMigrateConf([out], bufferIo()), /no \*\.conf\.py files in/);
  });
});
