import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { at, makeLayout } from '../../../../src/ops/install/layout.js';
import {
  renderSudoers,
  renderSysusers,
  renderTmpfiles,
  renderUnit,
} from '../../../../src/ops/install/render.js';
import { repoRoot } from '../../../system/harness-install.js';

const template = (name: string) => readFileSync(join(repoRoot(), 'systemd', name), 'utf8');

describe('filling in systemd/* for an installation', () => {
  it('installs the unit, sysusers and tmpfiles fragments unchanged for the default installation', () => {
    const layout = makeLayout();
    assert.equal(
      renderUnit(template('hubapps.service'), layout, 'hubapps'),
      template('hubapps.service'),
    );
    assert.equal(
      renderSysusers(template('hubapps.sysusers'), layout),
      template('hubapps.sysusers'),
    );
    assert.equal(
      renderTmpfiles(template('hubapps.tmpfiles'), layout),
      template('hubapps.tmpfiles'),
    );
  });

  it('renames every path, the user and the state directories for a differently named installation', () => {
    const layout = makeLayout({ name: 'hubapps-t-x', serviceUser: 'hubapps-t-svc' });
    const unit = renderUnit(template('hubapps.service'), layout);
    assert.doesNotMatch(unit, /\/(usr\/lib|etc|var\/lib|var\/log)\/hubapps(?![\w-])/);
    assert.match(
      unit,
      /^ExecStart=\/usr\/lib\/hubapps-t-x\/bin\/hubapps serve --config \/etc\/hubapps-t-x\/hubapps\.yaml$/m,
    );
    assert.match(unit, /^User=hubapps-t-svc$/m);
    assert.match(unit, /^StateDirectory=hubapps-t-x$/m);
    assert.match(unit, /^LoadCredential=chp-token:\/etc\/hubapps-t-x\/chp-token$/m);
    assert.match(
      renderSysusers(template('hubapps.sysusers'), layout),
      /^u\s+hubapps-t-svc\s.*\/var\/lib\/hubapps-t-x\s/m,
    );
    assert.match(
      renderTmpfiles(template('hubapps.tmpfiles'), layout),
      /^d\s+\/var\/log\/hubapps-t-x\s+0700 hubapps-t-svc hubapps-t-svc/m,
    );
  });

  it('fills the sudoers template and refuses what could change the meaning of the rule', () => {
    const rule = renderSudoers(
      template('hubapps.sudoers'),
      'svc',
      'users',
      '/usr/lib/x/bin/hubapps-proxy',
    );
    assert.match(
      rule,
      /^svc ALL=\(%users,!root,!#0\) NOPASSWD: \/usr\/lib\/x\/bin\/hubapps-proxy ""$/m,
    );
    assert.match(rule, /^Defaults!\/usr\/lib\/x\/bin\/hubapps-proxy env_reset, !setenv$/m);
    assert.match(
      rule,
      /^# {3}sed -e 's\|@SERVICE_USER@\|hubapps\|' -e 's\|@ALLOWED_GROUP@\|hubapps-users\|'/m,
      'the comment still shows how to fill in the template',
    );
    assert.doesNotMatch(rule, /s\|svc\||s\|hubapps\|hubapps\|/);
    assert.throws(
      () => renderSudoers('', 'svc', 'users', '/opt/a b/proxy'),
      /cannot go into a sudoers rule/,
    );
    assert.throws(
      () => renderSudoers('', 'svc,ALL', 'users', '/opt/proxy'),
      /not a valid user or group name/,
    );
  });

  it('names every path after the installation and writes below the scratch root', () => {
    const layout = makeLayout({ name: 'demo', root: '/tmp/r' });
    assert.equal(layout.serviceUser, 'demo');
    assert.equal(layout.allowedGroup, 'demo-users');
    assert.equal(layout.proxyPath, '/usr/lib/demo/bin/hubapps-proxy');
    assert.equal(at(layout, layout.sudoersFile), '/tmp/r/etc/sudoers.d/demo');
    assert.throws(() => makeLayout({ name: 'has.dot' }), /invalid installation name/);
  });
});
