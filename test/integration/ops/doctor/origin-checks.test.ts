import assert from 'node:assert/strict';
import { startChp, type RunningChp } from '../../../../src/chp/chp-process.js';
import type { ConfigInput } from '../../../../src/config/schema.js';
import type { DoctorContext } from '../../../../src/ops/doctor/check.js';
import { checkOrigins } from '../../../../src/ops/doctor/origin-checks.js';
import { doctorContext } from './doctor-context.js';

const TOKEN = 'doctor-origins-test-token';

function context(overrides: Partial<ConfigInput>): DoctorContext {
  return doctorContext(
    { chp: { auth_token: 'env:T_DOCTOR_ORIGINS' }, ...overrides },
    { T_DOCTOR_ORIGINS: TOKEN, T_DOCTOR_WRONG: 'wrong' },
  );
}

describe('hubapps doctor: the layout and per-server origins', function () {
  this.timeout(30000);
  let chp: RunningChp;
  before(async () => (chp = await startChp({ authToken: TOKEN, hostRouting: true })));
  after(async () => chp?.stop());

  const appsChp = (token = 'env:T_DOCTOR_ORIGINS') => ({ api_url: chp.apiUrl, auth_token: token });

  it('warns that the path layout shares one origin among all servers', async () => {
    const [only, ...rest] = await checkOrigins(context({}));
    assert.equal(rest.length, 0);
    assert.equal(only!.status, 'warn');
    assert.match(only!.what, /path layout.*apps_domain/);
  });

  it('passes a reachable apps CHP, a *.localhost domain and says http works there for the demo only', async () => {
    const results = await checkOrigins(
      context({ apps_domain: 'apps.localhost', apps_scheme: 'http', apps_chp: appsChp() }),
    );
    assert.deepEqual(
      results.map((r) => r.status),
      ['ok', 'ok', 'warn'],
      JSON.stringify(results),
    );
    assert.match(results[0]!.what, /apps CHP .* accepts the token/);
  });

  it('warns that sharing is refused when the hub and the apps share a registrable domain, and that it is risky when allowed', async () => {
    const refused = await checkOrigins(
      context({
        public_url: 'http://hub.x.localhost',
        apps_domain: 'apps.x.localhost',
        apps_scheme: 'http',
        apps_chp: appsChp(),
      }),
    );
    assert.match(refused.at(-1)!.what, /share a registrable domain: hubapps refuses sharing/);
    assert.equal(refused.at(-1)!.status, 'warn');
    const allowed = await checkOrigins(
      context({
        public_url: 'http://hub.x.localhost',
        apps_domain: 'apps.x.localhost',
        apps_scheme: 'http',
        apps_chp: appsChp(),
        sharing_same_site: true,
      }),
    );
    assert.match(allowed.at(-1)!.what, /sharing_same_site is true/);
    const apart = await checkOrigins(
      context({ apps_domain: 'apps.localhost', apps_scheme: 'http', apps_chp: appsChp() }),
    );
    assert.ok(
      apart.every((r) => !/registrable domain/.test(r.what)),
      JSON.stringify(apart),
    );
  });

  it('fails when the apps CHP refuses the token, or does not answer', async () => {
    const refused = await checkOrigins(
      context({
        apps_domain: 'apps.localhost',
        apps_chp: { api_url: chp.apiUrl, auth_token: 'env:T_DOCTOR_WRONG' },
      }),
    );
    assert.equal(refused[0]!.status, 'FAIL');
    assert.match(refused[0]!.what, /refuses the token/);
    const gone = await checkOrigins(
      context({
        apps_domain: 'apps.localhost',
        apps_chp: { api_url: 'http://127.0.0.1:9', auth_token: 'env:T_DOCTOR_ORIGINS' },
      }),
    );
    assert.equal(gone[0]!.status, 'FAIL');
    assert.match(gone[0]!.fix!, /hubapps-apps-chp/);
  });

  it('fails a domain without a wildcard record, and plain http off localhost, where __Host- cookies cannot work', async () => {
    const results = await checkOrigins(
      context({
        apps_domain: 'apps.hubapps-test.invalid',
        apps_scheme: 'http',
        apps_chp: appsChp(),
      }),
    );
    const [, dns, scheme] = results;
    assert.equal(dns!.status, 'FAIL');
    assert.match(
      dns!.what,
      /hubapps-probe-[0-9a-f]+\.apps\.hubapps-test\.invalid does not resolve/,
    );
    assert.equal(scheme!.status, 'FAIL');
    assert.match(scheme!.what, /__Host-/);
  });
});
