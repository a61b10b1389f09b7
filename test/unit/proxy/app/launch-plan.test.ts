import assert from 'node:assert/strict';
import { planLaunch } from '../../../../src/proxy/app/launch-plan.js';
import type { CatalogApp } from '../../../../src/catalog/types.js';
import type { StartRequest } from '../../../../src/protocol/wire.js';
import { SET_BY_HUBAPPS } from '../../../../src/protocol/app-env.js';

const TOKEN = 'ha_0123456789abcdefghijklmnopqrstuv';

const REQUEST = {
  op: 'start',
  version: 1,
  server: { id: 7, user: 'alice', name: 'lab' },
  app: 'lab',
  options: {},
  port: 50123,
  appPort: 20001,
  secret: 'not-used-by-the-plan-0123456789',
  publicOrigin: 'https://hub.example.org',
  allowedOrigins: [],
  framing: { frames: 'server', popups: 'isolate' },
  prefix: '/jh/apps/alice/lab/',
  serviceUrl: 'http://127.0.0.1:10101/jh/services/hubapps/',
  stopGraceMs: 1000,
  readyTimeoutMs: 5000,
  logMaxBytes: 1 << 20,
  apiToken: TOKEN,
  environment: { http_proxy: 'http://proxy:3128', R_LIBS_SITE: '/opt/r', LANG: 'en_GB.UTF-8' },
  group: 'hubapps-users',
  baseUrl: '/jh/',
} satisfies StartRequest;

const APP: CatalogApp = {
  name: 'lab',
  file: '/etc/hubapps/apps.d/lab.yaml',
  title: 'Lab',
  description: '',
  command: ['/usr/bin/lab', '--port={port}'],
  form: {},
  environment: { R_LIBS_SITE: '/srv/r/{user}', EXTRA: '1' },
  ready: { path: '/', status_below: 500, kind: 'http' },
  strip_prefix: true,
  max_servers: 0,
  allowed_groups: [],
  hidden: false,
  shareable: true,
};

const account = { username: 'alice', homedir: '/home/alice', shell: '/bin/bash' };
const serviceEnv = { LANG: 'C.UTF-8', SECRET_OF_THE_PROXY: 'x' };

describe("the app's environment", () => {
  it('carries the JUPYTERHUB_* variables of a single-user server, from the start request', async () => {
    const { env } = await planLaunch(APP, REQUEST, account, serviceEnv);
    assert.equal(env.JUPYTERHUB_USER, 'alice');
    assert.equal(env.JUPYTERHUB_SERVER_NAME, 'lab');
    assert.equal(env.JUPYTERHUB_SERVICE_PREFIX, '/jh/apps/alice/lab/');
    assert.equal(env.JUPYTERHUB_BASE_URL, '/jh/');
    assert.equal(env.JUPYTERHUB_SERVICE_URL, 'http://127.0.0.1:20001/');
    assert.equal(env.JUPYTERHUB_API_URL, 'http://127.0.0.1:10101/jh/services/hubapps/api');
    assert.equal(
      env.JUPYTERHUB_ACTIVITY_URL,
      'http://127.0.0.1:10101/jh/services/hubapps/api/users/alice/activity',
    );
    assert.equal(env.JUPYTERHUB_API_TOKEN, TOKEN);
    assert.equal(env.JUPYTERHUB_GROUP, 'hubapps-users');
    assert.equal(env.HUBAPPS_SERVER_ID, '7');
  });

  it('layers the account, the host environment, the app file and hubapps in that order', async () => {
    const { env } = await planLaunch(APP, REQUEST, account, serviceEnv);
    assert.equal(env.http_proxy, 'http://proxy:3128', 'the host environment reaches the app');
    assert.equal(env.LANG, 'en_GB.UTF-8', 'the host environment overrides the base');
    assert.equal(
      env.R_LIBS_SITE,
      '/srv/r/alice',
      "the app file's environment wins over the host's",
    );
    assert.equal(env.EXTRA, '1');
    assert.equal(env.HOME, '/home/alice');
    assert.equal(env.SECRET_OF_THE_PROXY, undefined, "the proxy's own environment stays out");
    assert.ok(
      !Object.values(env).includes(REQUEST.secret),
      'the server secret never reaches the app',
    );
  });

  it('sets nothing the start request did not give: no token, group or host variables, base_url /', async () => {
    const { apiToken: _t, environment: _e, group: _g, baseUrl: _b, ...bare } = REQUEST;
    const { env } = await planLaunch(APP, bare, account, serviceEnv);
    assert.equal(env.JUPYTERHUB_API_TOKEN, undefined);
    assert.equal(env.JUPYTERHUB_GROUP, undefined);
    assert.equal(env.JUPYTERHUB_BASE_URL, '/');
    assert.equal(env.http_proxy, undefined);
  });

  it('lists every variable hubapps sets in SET_BY_HUBAPPS, which the catalog and the config refuse', async () => {
    const { env } = await planLaunch(APP, REQUEST, account, serviceEnv);
    const ours = Object.keys(env).filter((k) => /^(JUPYTERHUB|HUBAPPS)_/.test(k));
    assert.deepEqual(
      ours.filter((k) => !SET_BY_HUBAPPS.has(k)),
      [],
    );
    assert.equal(ours.length, SET_BY_HUBAPPS.size);
  });
});

describe("a hub server's app", () => {
  const HUB_REQUEST = {
    ...REQUEST,
    prefix: '/user/alice/lab/',
    hub: {
      apiUrl: 'http://127.0.0.1:8081/hub/api/',
      authorizePath: '/hub/api/oauth2/authorize',
      apiToken: 'hub-api-token-of-this-server-0123',
      clientId: 'jupyterhub-user-alice-lab',
      callbackPath: '/user/alice/lab/oauth_callback',
      accessScopes: ['access:servers!server=alice/lab'],
      user: 'alice',
      server: 'lab',
    },
  } satisfies StartRequest;

  it('listens on the guarded appPort the service gave, over TCP, while the proxy has no socket', async () => {
    const plan = await planLaunch(APP, HUB_REQUEST, account, serviceEnv);
    assert.deepEqual(plan.target, { port: 20001 });
    assert.deepEqual(plan.argv, ['/usr/bin/lab', '--port=20001']);
  });

  it("never gets the hub's api token for the server (the proxy's OAuth client secret)", async () => {
    const { env, argv } = await planLaunch(APP, HUB_REQUEST, account, serviceEnv);
    assert.ok(![...Object.values(env), ...argv].some((v) => v.includes('hub-api-token')));
  });
});
