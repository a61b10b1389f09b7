import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { configSchema } from '../../../../src/config/schema.js';
import type { DoctorContext } from '../../../../src/ops/doctor/check.js';
import { checkChpEnv } from '../../../../src/ops/doctor/chp-env-checks.js';
import { tmpDir, type TmpDir } from '../../../helpers/tmp.js';

describe("hubapps doctor: the CHP units' ports (chp.env) against the configuration", () => {
  let tmp: TmpDir;
  const context = (config: object): DoctorContext => ({
    configFile: path.join(tmp.path, 'hubapps.yaml'),
    config: undefined,
    settings: configSchema.parse(config) as never,
    serviceUser: 'hubapps',
    account: undefined,
    root: true,
    sudoersHint: '',
  });
  const env = (text: string) => fs.writeFileSync(path.join(tmp.path, 'chp.env'), text);
  beforeEach(async () => {
    tmp = await tmpDir('doctor-chp-env');
  });
  afterEach(() => tmp.remove());

  it('has nothing to compare without chp.env (CHP units written by hand)', () => {
    const [r] = checkChpEnv(context({ chp: { api_url: 'http://127.0.0.1:9999' } }));
    assert.equal(r!.status, 'ok');
    assert.match(r!.what, /no .*chp\.env/);
  });

  it('passes when both say the same ports, and fails naming each key that differs, with both fixes', () => {
    env('CHP_API_PORT=8101\nAPPS_CHP_API_PORT=8103\nHUBAPPS_URL=http://127.0.0.1:10201\n');
    const same = {
      chp: { api_url: 'http://127.0.0.1:8101' },
      apps_domain: 'apps-example.org',
      apps_chp: { api_url: 'http://127.0.0.1:8103' },
      listen: { port: 10201 },
    };
    assert.equal(checkChpEnv(context(same))[0]!.status, 'ok');
    const [r] = checkChpEnv(
      context({ ...same, chp: { api_url: 'http://127.0.0.1:8001' }, listen: { port: 10101 } }),
    );
    assert.equal(r!.status, 'FAIL');
    assert.deepEqual(
      r!.details!.map((d) => d.split(',')[0]),
      ['chp.api_url is http://127.0.0.1:8001', 'listen.port is 10101'],
    );
    assert.match(r!.fix!, /edit .*chp\.env .* or .*hubapps\.yaml/);
  });

  it('does not compare the apps CHP in the path layout, and names the file and key of a bad value', () => {
    env('APPS_CHP_API_PORT=1234\n');
    assert.equal(checkChpEnv(context({}))[0]!.status, 'ok');
    env('CHP_API_PORT=a lot\n');
    const [r] = checkChpEnv(context({}));
    assert.equal(r!.status, 'FAIL');
    assert.match(r!.what, /chp\.env: key CHP_API_PORT: 'a lot' is not a port/);
  });
});
