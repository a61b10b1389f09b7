import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCatalog } from '../../../src/catalog/load.js';
import { loadAppFile } from '../../../src/proxy/app/app-file.js';
import { tmpDir, type TmpDir } from '../../helpers/index.js';
import { configFailure } from '../../helpers/config-error.js';

describe('built-in apps in the catalog (builtin: terminal)', () => {
  let tmp: TmpDir;
  let n = 0;
  const catalogDir = (files: Record<string, string>) => {
    const dir = join(tmp.path, `apps-${++n}.d`);
    mkdirSync(dir);
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    return dir;
  };
  const failure = configFailure;

  before(async () => {
    tmp = await tmpDir('catalog-builtin');
  });
  after(() => tmp.remove());

  it('accepts an app file with builtin: terminal and no command', async () => {
    const dir = catalogDir({
      'shell.yaml': 'title: Terminal\ndescription: A shell in the browser\nbuiltin: terminal\n',
    });
    const app = loadCatalog(dir).get('shell');
    assert.equal(app?.builtin, 'terminal');
    assert.equal(app?.command, undefined);
    assert.equal(
      (await loadAppFile(dir, 'shell')).builtin,
      'terminal',
      'the proxy reads it the same way',
    );
  });

  it('refuses builtin and command together, naming the file and the key builtin', async () => {
    const dir = catalogDir({ 'shell.yaml': 'title: T\nbuiltin: terminal\ncommand: [/bin/bash]\n' });
    const err = failure(() => loadCatalog(dir));
    assert.equal(err.file, join(dir, 'shell.yaml'));
    assert.equal(err.key, 'builtin');
    assert.match(
      err.message,
      /shell\.yaml: key 'builtin': 'builtin: terminal' and 'command' exclude each other/,
    );
    await assert.rejects(
      loadAppFile(dir, 'shell'),
      /shell\.yaml: key 'builtin': .*exclude each other/,
    );
  });

  it('refuses an app with neither, naming the file and the key command', () => {
    const dir = catalogDir({ 'x.yaml': 'title: X\ndescription: nothing to run\n' });
    const err = failure(() => loadCatalog(dir));
    assert.equal(err.file, join(dir, 'x.yaml'));
    assert.equal(err.key, 'command');
    assert.match(
      err.message,
      /x\.yaml: key 'command': required key is missing: .*'builtin: terminal'/,
    );
  });

  it('refuses an unknown built-in app, saying which exist', () => {
    const err = failure(() => loadCatalog(catalogDir({ 'x.yaml': 'title: X\nbuiltin: shell\n' })));
    assert.equal(err.key, 'builtin');
    assert.match(err.message, /expected "terminal"/);
  });
});
