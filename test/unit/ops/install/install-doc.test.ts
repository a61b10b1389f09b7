import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chpManualInstall } from '../../../../src/ops/install/chp.js';
import { renderSpawnerDropIn } from '../../../../src/ops/install/hub-spawner.js';
import { makeLayout } from '../../../../src/ops/install/layout.js';
import { repoRoot } from '../../../system/harness-install.js';

const doc = () => readFileSync(join(repoRoot(), 'docs', 'install.md'), 'utf8');

describe('docs/install.md says what hubapps install does', () => {
  it("shows CHP's unit exactly as install writes it for the default installation", () => {
    const m =
      /`\/etc\/systemd\/system\/configurable-http-proxy\.service`[^\n]*\n[^\n]*\n\n```ini\n([\s\S]*?)```/.exec(
        doc(),
      );
    assert.ok(m, 'no unit block for configurable-http-proxy.service in docs/install.md');
    assert.equal(
      m[1],
      readFileSync(join(repoRoot(), 'systemd', 'configurable-http-proxy.service'), 'utf8'),
    );
  });

  it('gives the same by-hand CHP install command that install prints when it cannot copy CHP', () => {
    assert.ok(
      doc().includes(`\n${chpManualInstall(makeLayout())}\n`),
      chpManualInstall(makeLayout()),
    );
  });

  it("shows the service's spawner drop-in as install --jupyterhub-spawner writes it", () => {
    const text = readFileSync(join(repoRoot(), 'docs', 'jupyterhub.md'), 'utf8');
    const section = text.slice(text.indexOf('\n## Drop-in for sudospawner\n'));
    const m = /```ini\n([\s\S]*?)```/.exec(section);
    assert.ok(m, 'no ini block in the drop-in section of docs/jupyterhub.md');
    assert.equal(m[1], renderSpawnerDropIn(makeLayout()).replace(/^#.*\n/gm, ''));
  });

  it('never tells the admin to replace a token that install made', () => {
    for (const file of ['install.md', 'jupyterhub.md']) {
      const text = readFileSync(join(repoRoot(), 'docs', file), 'utf8');
      for (const line of text.split('\n').filter((l) => /> \/etc\/hubapps\/[\w-]*token/.test(l))) {
        assert.match(
          line,
          /^test -e (\/etc\/hubapps\/[\w-]*token) \|\| .*> \1\)/,
          `${file}: ${line}`,
        );
      }
    }
  });
});
