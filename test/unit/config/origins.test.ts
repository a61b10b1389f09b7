import assert from 'node:assert/strict';
import { loadConfig } from '../../../src/config/load.js';
import { Urls } from '../../../src/config/urls.js';
import { configFailure } from '../../helpers/config-error.js';

const ENV = { CONFIGPROXY_AUTH_TOKEN: 'x', T_APPS: 'y' };
const load = (over: object) =>
  loadConfig(
    undefined,
    { public_url: 'https://hub.example.org', apps_chp: { auth_token: 'env:T_APPS' }, ...over },
    ENV,
  );

const NOT_ORIGINS: [string, RegExp][] = [
  ['https://jupyter.example.org/', /origin only, written as https:\/\/jupyter\.example\.org/],
  ['https://jupyter.example.org/hub', /no path/],
  ['https://jupyter.example.org?x=1', /no query/],
  ['https://user@jupyter.example.org', /no user name/],
  ['https://jupyter.example.org:443', /no default port/],
  ['http://jupyter.example.org', /must use https/],
  ['ftp://jupyter.example.org', /http\(s\) origin/],
  ['jupyter.example.org', /must be an origin like/],
  ['*', /must be an origin like/],
];

describe('config: extra_origins and app_embedding.allow (origins, checked strictly)', () => {
  it('keeps origins in lower case, with a port when it is not the default', () => {
    const cfg = load({
      apps_domain: 'apps-example.org',
      extra_origins: ['https://Jupyter.Example.org', 'https://alias.example.net:8443'],
      app_embedding: { allow: ['https://LMS.example.edu'] },
    });
    assert.deepEqual(cfg.extra_origins, [
      'https://jupyter.example.org',
      'https://alias.example.net:8443',
    ]);
    assert.deepEqual(cfg.app_embedding.allow, ['https://lms.example.edu']);
  });

  it('accepts plain http only on loopback names (tests, the demo)', () => {
    const cfg = load({
      apps_domain: 'apps.localhost',
      apps_scheme: 'http',
      extra_origins: ['http://alias.localhost:8000', 'http://127.0.0.1:9000'],
      app_embedding: { allow: ['http://lms.e2e-embed.localhost:8080'] },
    });
    assert.equal(cfg.extra_origins.length, 2);
    assert.equal(cfg.app_embedding.allow.length, 1);
  });

  it('defaults to no extra origin and no embedding site', () => {
    const cfg = load({});
    assert.deepEqual(cfg.extra_origins, []);
    assert.deepEqual(cfg.app_embedding.allow, []);
  });

  for (const key of ['extra_origins', 'app_embedding.allow'])
    it(`refuses what is not an origin in ${key}, naming the key and the fix`, () => {
      for (const [bad, why] of NOT_ORIGINS) {
        const list = [bad];
        const over =
          key === 'extra_origins'
            ? { extra_origins: list }
            : { apps_domain: 'apps-example.org', app_embedding: { allow: list } };
        const err = configFailure(() => load(over));
        assert.match(err.message, new RegExp(`${key.replace('.', '\\.')}\\[0\\]`), bad);
        assert.match(err.message, why, bad);
      }
    });

  it("refuses an extra origin on apps_domain: an app's page would count as the launcher's", () => {
    const err = configFailure(() =>
      load({ apps_domain: 'apps-example.org', extra_origins: ['https://x--bob.apps-example.org'] }),
    );
    assert.match(err.message, /extra_origins\[0\].*lies on apps_domain/);
  });

  it("refuses an embedding site that is this site's own origin or an app's host", () => {
    for (const [origin, why] of [
      ['https://hub.example.org', /one of this site's own origins/],
      ['https://jupyter.example.org', /one of this site's own origins/],
      ['https://lab--alice.apps-example.org', /lies on apps_domain/],
    ] as const) {
      const err = configFailure(() =>
        load({
          apps_domain: 'apps-example.org',
          extra_origins: ['https://jupyter.example.org'],
          app_embedding: { allow: [origin] },
        }),
      );
      assert.match(err.message, /app_embedding\.allow\[0\]/, origin);
      assert.match(err.message, why, origin);
    }
  });

  it('refuses embedding sites on the path layout, and on plain http outside loopback: the code and the cookie need them', () => {
    const pathLayout = configFailure(() =>
      load({ app_embedding: { allow: ['https://lms.example.edu'] } }),
    );
    assert.match(
      pathLayout.message,
      /app_embedding\.allow.*needs per-server origins \(apps_domain\)/,
    );
    const plain = configFailure(() =>
      load({
        apps_domain: 'apps-example.org',
        apps_scheme: 'http',
        app_embedding: { allow: ['https://lms.example.edu'] },
      }),
    );
    assert.match(plain.message, /app_embedding\.allow.*needs apps_scheme https/);
    const demo = load({
      apps_domain: 'apps.localhost',
      apps_scheme: 'http',
      app_embedding: { allow: ['http://lms.e2e-embed.localhost:8080'] },
    });
    assert.deepEqual(demo.app_embedding.allow, ['http://lms.e2e-embed.localhost:8080']);
  });

  it("counts public_url's origin and the extra origins as the site's own pages", () => {
    const urls = new Urls(
      load({ extra_origins: ['https://jupyter.example.org'] }),
      'http://127.0.0.1:1',
    );
    assert.deepEqual(
      [...urls.siteOrigins],
      ['https://hub.example.org', 'https://jupyter.example.org'],
    );
  });
});
