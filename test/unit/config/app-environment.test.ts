import assert from 'node:assert/strict';
import { loadConfig } from '../../../src/config/load.js';
import { configFailure } from '../../helpers/config-error.js';
import { scratchFiles } from '../../helpers/scratch-files.js';

const ENV = { CONFIGPROXY_AUTH_TOKEN: 'chp-token' };

describe('hubapps.yaml environment and env_keep', () => {
  const scratch = scratchFiles('hubapps-t-appenv-');
  const file = scratch.file;

  it('are empty by default and read as written', () => {
    assert.deepEqual(loadConfig(undefined, undefined, ENV).environment, {});
    const cfg = loadConfig(
      file(
        'environment:\n  TZ: Europe/Amsterdam\n  PATH: /opt/site/bin:/usr/bin:/bin\nenv_keep: [https_proxy, no_proxy]\n',
      ),
      undefined,
      ENV,
    );
    assert.deepEqual(cfg.environment, {
      TZ: 'Europe/Amsterdam',
      PATH: '/opt/site/bin:/usr/bin:/bin',
    });
    assert.deepEqual(cfg.env_keep, ['https_proxy', 'no_proxy']);
  });

  for (const [yaml, key, why] of [
    [
      'environment: {JUPYTERHUB_API_TOKEN: x}',
      'environment.JUPYTERHUB_API_TOKEN',
      /set by hubapps itself/,
    ],
    ['environment: {HUBAPPS_ANYTHING: x}', 'environment.HUBAPPS_ANYTHING', /set by hubapps itself/],
    ['environment: {USER: root}', 'environment.USER', /always the user's own/],
    ['environment: {"BAD-NAME": x}', 'environment.BAD-NAME', /letters, digits and _/],
    ['environment: {A: 1}', 'environment.A', /expected string/],
    ['env_keep: [LD_PRELOAD]', 'env_keep[0]', /belongs to the service/],
    ['env_keep: [ok_name, PATH]', 'env_keep[1]', /belongs to the service/],
    ['env_keep: [CREDENTIALS_DIRECTORY]', 'env_keep[0]', /belongs to the service/],
    ['env_keep: [NODE_OPTIONS]', 'env_keep[0]', /belongs to the service/],
    ['env_keep: [JUPYTERHUB_API_TOKEN]', 'env_keep[0]', /set by hubapps itself/],
    ['env_keep: [HOME]', 'env_keep[0]', /always the user's own/],
  ] as const) {
    it(`refuses ${yaml}, naming the file and the key`, () => {
      const path = file(`${yaml}\n`);
      const err = configFailure(() => loadConfig(path, undefined, ENV));
      assert.equal(err.key, key);
      assert.match(err.message, new RegExp(`^${path}: key '${key.replace(/[.[\]]/g, '\\$&')}': `));
      assert.match(err.message, why);
    });
  }
});
