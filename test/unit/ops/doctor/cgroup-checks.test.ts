import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { serverLimitsConfigSchema } from '../../../../src/limits/resources.js';
import type { DoctorContext } from '../../../../src/ops/doctor/check.js';
import { checkCgroups } from '../../../../src/ops/doctor/cgroup-checks.js';
import { tmpDir, type TmpDir } from '../../../helpers/tmp.js';

function context(limits: Record<string, unknown>): DoctorContext {
  const settings = { server_limits: serverLimitsConfigSchema.parse(limits) } as never;
  return {
    configFile: '/etc/hubapps/hubapps.yaml',
    config: undefined,
    settings,
    serviceUser: 'hubapps',
    account: undefined,
    root: false,
    sudoersHint: '',
    unitFile: '/etc/systemd/system/hubapps.service',
  };
}

describe('hubapps doctor: per-server limits', () => {
  let tmp: TmpDir;
  beforeEach(async () => (tmp = await tmpDir('doctor-cgroup')));
  afterEach(() => tmp.remove());

  it('fails under "required" when the v1 root is missing, with the root command as the fix; warns under "auto"', () => {
    const [r] = checkCgroups(context({ cgroups: 'required' }), tmp.path, '');
    assert.equal(r!.status, 'FAIL');
    assert.match(r!.what, /memory\/hubapps is missing/);
    assert.match(
      r!.fix!,
      /^hubapps cgroup-setup --user hubapps --config \/etc\/hubapps\/hubapps.yaml/,
    );
    assert.equal(checkCgroups(context({}), tmp.path, '')[0]!.status, 'warn');
  });

  it('passes a v1 root writable by the service user, and lists cgroups of servers left behind', () => {
    for (const c of ['memory', 'cpu', 'pids'])
      fs.mkdirSync(path.join(tmp.path, c, 'hubapps'), { recursive: true });
    assert.deepEqual(
      checkCgroups(context({ cgroups: 'required' }), tmp.path, '').map((r) => r.status),
      ['ok'],
    );
    fs.mkdirSync(path.join(tmp.path, 'memory', 'hubapps', 'server-12'));
    const [, left] = checkCgroups(context({ cgroups: 'required' }), tmp.path, '');
    assert.match(left!.what, /cgroups of servers 12 exist/);
  });

  it('checks a v2 unit for Delegate=yes and against ProtectControlGroups=yes', () => {
    fs.writeFileSync(path.join(tmp.path, 'cgroup.controllers'), 'cpu memory pids');
    const run = (unit: string) =>
      checkCgroups(context({ cgroups: 'required' }), tmp.path, unit)[0]!;
    assert.match(run('[Service]\nUser=hubapps\n').what, /lacks Delegate=yes/);
    assert.match(run('[Service]\nDelegate=yes\nProtectControlGroups=yes\n').what, /read-only/);
    assert.equal(run('[Service]\nDelegate=yes\n').status, 'ok');
  });

  it('warns that limits are off', () => {
    assert.match(checkCgroups(context({ cgroups: 'off' }))[0]!.what, /per-server limits are off/);
  });
});
