import assert from 'node:assert/strict';
import { loadConfig } from '../../../src/config/load.js';
import { Urls } from '../../../src/config/urls.js';
import { configFailure } from '../../helpers/config-error.js';

const ENV = { CONFIGPROXY_AUTH_TOKEN: 'x', T_APPS: 'y' };
const load = (over: object) =>
  loadConfig(undefined, { apps_chp: { auth_token: 'env:T_APPS' }, ...over }, ENV);

describe('config: apps_domain (per-server origins)', () => {
  it('refuses an apps domain with a scheme, a port, upper case or a single label, naming the key', () => {
    for (const bad of [
      'https://apps.example.org',
      'apps.example.org:443',
      'Apps.Example.org',
      'localhost',
      '-x.example.org',
    ]) {
      const err = configFailure(() => load({ apps_domain: bad }));
      assert.match(err.message, /apps_domain/, bad);
    }
  });

  it('refuses a hub whose public_url lies on the apps domain: the launcher must stay off it', () => {
    const err = configFailure(() =>
      load({ apps_domain: 'example.org', public_url: 'https://hub.example.org' }),
    );
    assert.match(err.message, /apps_domain.*launcher and the API stay off the apps domain/);
  });

  it('needs the apps CHP token only when apps_domain is set', () => {
    assert.equal(
      loadConfig(undefined, {}, { CONFIGPROXY_AUTH_TOKEN: 'x' }).apps_chp.auth_token,
      '',
    );
    const err = configFailure(() =>
      loadConfig(undefined, { apps_domain: 'apps-example.org' }, { CONFIGPROXY_AUTH_TOKEN: 'x' }),
    );
    assert.match(err.message, /apps_chp\.auth_token/);
  });

  it('gives each server https://SERVER--USER.DOMAIN/ and keeps the launcher on public_url', () => {
    const urls = new Urls(
      load({ apps_domain: 'apps-example.org', public_url: 'https://hub.example.org' }),
      'http://127.0.0.1:1',
    );
    assert.equal(urls.publicServerUrl('alice', 'lab'), 'https://lab--alice.apps-example.org/');
    assert.equal(urls.serverRoute('alice', 'lab'), '/lab--alice.apps-example.org');
    assert.equal(urls.serverPrefix('alice', 'lab'), '/');
    assert.equal(urls.launcherUrl(), 'https://hub.example.org/services/hubapps/');
    assert.equal(urls.appsLabel('LAB--alice.apps-example.org:443'), 'lab--alice');
    assert.equal(urls.appsLabel('lab--alice.apps-example.org.evil.net'), undefined);
    assert.ok(urls.isAppsOrigin('https://x--bob.apps-example.org'));
    assert.ok(!urls.isAppsOrigin('https://hub.example.org'));
  });

  it("adds the port only when it is not the scheme's default", () => {
    const demo = new Urls(
      load({ apps_domain: 'apps.localhost', apps_scheme: 'http', apps_port: 8001 }),
      'http://127.0.0.1:1',
    );
    assert.equal(demo.publicServerUrl('alice', 'lab'), 'http://lab--alice.apps.localhost:8001/');
    const std = new Urls(
      load({ apps_domain: 'apps.localhost', apps_port: 443 }),
      'http://127.0.0.1:1',
    );
    assert.equal(std.publicServerUrl('alice', 'lab'), 'https://lab--alice.apps.localhost/');
  });

  it('keeps the path layout when apps_domain is unset', () => {
    const urls = new Urls(loadConfig(undefined, {}, ENV), 'http://127.0.0.1:1');
    assert.equal(urls.publicServerUrl('alice', 'lab'), 'http://127.0.0.1:8000/apps/alice/lab/');
    assert.equal(urls.serverLink('alice', 'lab'), '/apps/alice/lab/');
    assert.equal(urls.serverRoute('alice', 'lab'), '/apps/alice/lab');
  });
});
