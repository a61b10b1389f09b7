import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { readCompiledApp } from '../../../src/catalog/compiled-form.js';
import { buildDemoCatalog, compileDemoCatalog } from '../../../src/demo/catalog.js';
import { repoRoot } from '../../system/harness-install.js';
import { tmpDir, type TmpDir } from '../../helpers/tmp.js';

describe("npm run demo: the catalog's compiled form, as production has it", () => {
  let dir: TmpDir;
  beforeEach(async () => {
    dir = await tmpDir('demo-catalog');
  });
  afterEach(() => dir.remove());

  it('compiles every demo app, so its proxies start without the YAML worker', () => {
    const catalog = buildDemoCatalog(path.join(dir.path, 'apps.d'), repoRoot(), []);
    assert.equal(readCompiledApp(catalog, 'hello'), null, 'compiled before compileDemoCatalog');
    assert.equal(compileDemoCatalog(catalog), undefined);
    const names = fs
      .readdirSync(catalog)
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => f.slice(0, -5));
    assert.ok(names.length > 1);
    for (const name of names) assert.equal(readCompiledApp(catalog, name)?.name, name, name);
  });

  it('says why it left the catalog uncompiled when an --apps file is bad, and the demo still starts from YAML', () => {
    const extra = path.join(dir.path, 'extra');
    fs.mkdirSync(extra);
    fs.writeFileSync(path.join(extra, 'broken.yaml'), 'title: Broken\ncommand: 42\n');
    const catalog = buildDemoCatalog(path.join(dir.path, 'apps.d'), repoRoot(), [extra]);
    assert.match(
      compileDemoCatalog(catalog) ?? '',
      /^The catalog was not compiled, so apps start from their YAML \(slower\): .*broken\.yaml/,
    );
    assert.equal(readCompiledApp(catalog, 'hello'), null);
  });
});
