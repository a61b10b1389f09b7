import assert from 'node:assert/strict';
import { hostEnvironment } from '../../../src/lifecycle/host-environment.js';

describe('the host-wide environment of every app', () => {
  it("is environment, then each env_keep name the service's environment has (kept values win)", () => {
    const env = hostEnvironment(
      {
        environment: { https_proxy: 'http://configured:3128', TZ: 'Europe/Amsterdam' },
        env_keep: ['https_proxy', 'no_proxy', 'SITE_LICENSE'],
      },
      { https_proxy: 'http://from-unit:3128', no_proxy: 'localhost', OTHER: 'x' },
    );
    assert.deepEqual(env, {
      https_proxy: 'http://from-unit:3128',
      TZ: 'Europe/Amsterdam',
      no_proxy: 'localhost',
    });
  });

  it('is empty when nothing is configured', () => {
    assert.deepEqual(hostEnvironment({ environment: {}, env_keep: [] }, { PATH: '/bin' }), {});
  });
});
