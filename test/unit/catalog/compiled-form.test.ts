import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileCatalog } from '../../../src/catalog/compile.js';
import { compiledPath, readCompiledApp } from '../../../src/catalog/compiled-form.js';
import { loadAppFile } from '../../../src/proxy/app/app-file.js';
import { tmpDir, type TmpDir } from '../../helpers/index.js';

describe('the compiled catalog hubapps-proxy starts from', () => {
  let tmp: TmpDir;
  let n = 0;
  const APP =
    'title: Notes\ncommand: [/usr/bin/python3, -m, http.server, "{port}"]\nenvironment: {A: "{home}/x"}\nready: {kind: tcp}\n';
  const catalog = (files: Record<string, string>) => {
    const dir = join(tmp.path, `apps-${++n}.d`);
    mkdirSync(dir);
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    return dir;
  };

  before(async () => (tmp = await tmpDir('compiled')));
  after(() => tmp.remove());

  it('gives the proxy exactly the app the full validation gives, defaults included', async () => {
    const dir = catalog({ 'notes.yaml': APP, 'shell.yaml': 'title: Shell\nbuiltin: terminal\n' });
    assert.deepEqual(compileCatalog(dir).sort(), ['notes', 'shell']);
    for (const name of ['notes', 'shell'])
      assert.deepEqual(readCompiledApp(dir, name), await loadAppFile(dir, name));
  });

  it('is ignored once the app file changes, so an edit without check-config still runs what the file says', async () => {
    const dir = catalog({ 'notes.yaml': APP });
    compileCatalog(dir);
    writeFileSync(join(dir, 'notes.yaml'), APP.replace('Notes', 'Changed'));
    assert.equal(readCompiledApp(dir, 'notes'), null);
  });

  it("is ignored when someone other than the app file's owner could have written it", () => {
    const dir = catalog({ 'notes.yaml': APP });
    compileCatalog(dir);
    chmodSync(compiledPath(dir, 'notes'), 0o664);
    assert.equal(readCompiledApp(dir, 'notes'), null);
    chmodSync(compiledPath(dir, 'notes'), 0o644);
    chmodSync(join(dir, '.compiled'), 0o777);
    assert.equal(readCompiledApp(dir, 'notes'), null);
  });

  it('is ignored when it was written by another hubapps version or for other bytes', () => {
    const dir = catalog({ 'notes.yaml': APP });
    compileCatalog(dir);
    const file = compiledPath(dir, 'notes');
    const record = JSON.parse(readFileSync(file, 'utf8')) as { hubapps: string; sha256: string };
    writeFileSync(file, JSON.stringify({ ...record, hubapps: '0.0.0-other' }));
    assert.equal(readCompiledApp(dir, 'notes'), null);
    writeFileSync(file, JSON.stringify({ ...record, sha256: '0'.repeat(64) }));
    assert.equal(readCompiledApp(dir, 'notes'), null);
  });

  it('drops the compiled form of an app whose file is gone, and compiles nothing from a catalog with a broken file', () => {
    const dir = catalog({ 'notes.yaml': APP, 'old.yaml': APP });
    compileCatalog(dir);
    rmSync(join(dir, 'old.yaml'));
    assert.deepEqual(compileCatalog(dir), ['notes']);
    assert.equal(existsSync(compiledPath(dir, 'old')), false);
    writeFileSync(join(dir, 'broken.yaml'), 'title: [broken\n');
    assert.throws(() => compileCatalog(dir), /broken\.yaml/);
  });
});
