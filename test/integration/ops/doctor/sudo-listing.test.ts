import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { configSchema } from '../../../../src/config/schema.js';
import type { DoctorContext } from '../../../../src/ops/doctor/check.js';
import { sudoListing } from '../../../../src/ops/doctor/sudo-checks.js';
import { tmpDir, type TmpDir } from '../../../helpers/tmp.js';

describe('hubapps doctor: sudo -l', () => {
  let tmp: TmpDir;
  beforeEach(async () => {
    tmp = await tmpDir('doctor-sudo-l');
  });
  afterEach(() => tmp.remove());

  it('is asked once per doctor run, however many checks read the rules, and again by the next run', () => {
    const calls = path.join(tmp.path, 'calls');
    const sudo = path.join(tmp.path, 'sudo');
    fs.writeFileSync(
      sudo,
      `#!/bin/sh\necho "$*" >> ${calls}\necho "User hubapps may run the following commands on host:"\n`,
      { mode: 0o755 },
    );
    const run = (): DoctorContext => ({
      configFile: '/etc/hubapps/hubapps.yaml',
      config: undefined,
      settings: configSchema.parse({ sudo_command: sudo }) as never,
      serviceUser: 'hubapps',
      account: undefined,
      root: true,
      sudoersHint: '',
    });
    const first = run();
    for (let i = 0; i < 3; i++)
      assert.match(sudoListing(first).stdout, /may run the following commands/);
    assert.deepEqual(fs.readFileSync(calls, 'utf8').trim().split('\n'), ['-n -l -U hubapps']);
    sudoListing(run());
    assert.equal(fs.readFileSync(calls, 'utf8').trim().split('\n').length, 2);
  });
});
