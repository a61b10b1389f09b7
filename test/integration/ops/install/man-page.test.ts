import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { USAGE } from '../../../../src/cli-usage.js';
import { INSTALL_USAGE } from '../../../../src/ops/install/install.js';
import { makeLayout } from '../../../../src/ops/install/layout.js';
import { manPage } from '../../../../src/ops/install/man-page.js';
import { requirePrerequisite } from '../../../helpers/prereq.js';

describe('the man page hubapps(1)', () => {
  const page = manPage(makeLayout({ name: 'lab' }), '1.2.3', '2026-12-07');

  it("is --help's text: the commands, then each command's own usage, named for the installation", () => {
    assert.match(page, /^\.TH LAB 1 "2026-12-07" "hubapps 1\.2\.3" "User Commands"$/m);
    assert.ok(page.includes(USAGE.trimEnd()));
    assert.ok(page.includes(`.SS install\n.nf\n${INSTALL_USAGE.trimEnd()}\n.fi`));
    for (const command of ['doctor', 'check-config', 'cgroup-setup', 'port-guard', 'migrate-conf'])
      assert.match(page, new RegExp(`^\\.SS ${command}$`, 'm'));
    assert.match(page, /^\.I \/etc\/lab\/hubapps\.yaml$/m);
  });

  it('renders with groff, without a warning', function () {
    requirePrerequisite(
      this,
      existsSync('/usr/bin/groff'),
      'needs groff (Debian groff-base, which man-db uses)',
    );
    const r = spawnSync('/usr/bin/groff', ['-man', '-Tutf8', '-ww', '-z'], {
      input: page,
      encoding: 'utf8',
    });
    assert.equal(r.status, 0);
    assert.equal(r.stderr, '');
    assert.equal(
      spawnSync('/usr/bin/groff', ['-man', '-Tutf8', '-ww', '-z'], {
        input: `${page}\n.BOGUS\n`,
        encoding: 'utf8',
      }).stderr !== '',
      true,
      'groff reports nothing at all',
    );
  });
});
