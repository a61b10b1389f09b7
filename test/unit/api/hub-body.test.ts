import assert from 'node:assert/strict';
import { checkHubUser, parseHubStartBody } from '../../../src/api/hub-body.js';
import { HubappsError } from '../../../src/errors.js';

const hub = {
  server: 'lab',
  prefix: '/user/alice/lab/',
  api_url: 'http://127.0.0.1:8081/hub/api/',
  authorize_path: '/hub/api/oauth2/authorize',
  api_token: 'tok',
  client_id: 'jupyterhub-user-alice-lab',
  callback_path: '/user/alice/lab/oauth_callback',
  access_scopes: ['access:servers!server=alice/lab', 'access:servers!user=alice'],
};

const refusal = (code: string, field: RegExp) => (err: unknown) =>
  err instanceof HubappsError && err.code === code && field.test(err.message);

describe("HubappsSpawner's start body", () => {
  it('becomes a start of the app with the hub binding, named after the hub user', () => {
    const input = parseHubStartBody(
      { app: 'lab', options: { mem: 2 }, form: { dir: 'x' }, hub, start_timeout: 60 },
      'alice',
    );
    assert.equal(input.app, 'lab');
    assert.deepEqual(input.options, { mem: 2 });
    assert.deepEqual(input.form, { dir: 'x' });
    assert.equal(input.hub.prefix, '/user/alice/lab/');
    assert.equal(input.hub.startTimeoutS, 60);
    assert.deepEqual(input.hub.binding, {
      apiUrl: 'http://127.0.0.1:8081/hub/api/',
      authorizePath: '/hub/api/oauth2/authorize',
      apiToken: 'tok',
      clientId: 'jupyterhub-user-alice-lab',
      callbackPath: '/user/alice/lab/oauth_callback',
      accessScopes: ['access:servers!server=alice/lab', 'access:servers!user=alice'],
      user: 'alice',
      server: 'lab',
    });
  });

  it("takes the hub's default server ('') and no start_timeout", () => {
    const input = parseHubStartBody(
      {
        app: 'lab',
        hub: {
          ...hub,
          server: '',
          prefix: '/user/alice/',
          callback_path: '/user/alice/oauth_callback',
        },
      },
      'alice',
    );
    assert.equal(input.hub.binding.server, '');
    assert.equal(input.hub.startTimeoutS, undefined);
  });

  const bad: Array<[string, unknown, string, RegExp]> = [
    ['no hub', { app: 'lab' }, 'invalid_body', /"hub"/],
    ['no app', { hub }, 'invalid_body', /"app"/],
    ['an unknown field', { app: 'lab', hub, cmd: 'sh' }, 'unknown_field', /'cmd'/],
    ['an unknown hub field', { app: 'lab', hub: { ...hub, env: {} } }, 'unknown_field', /'env'/],
    [
      'a missing hub field',
      { app: 'lab', hub: { ...hub, client_id: undefined } },
      'invalid_body',
      /hub.client_id/,
    ],
    [
      'a relative prefix',
      { app: 'lab', hub: { ...hub, prefix: 'user/alice/' } },
      'invalid_body',
      /hub.prefix/,
    ],
    [
      'a prefix with ..',
      { app: 'lab', hub: { ...hub, prefix: '/user/../hub/' } },
      'invalid_body',
      /hub.prefix/,
    ],
    [
      'a prefix without its slash',
      {
        app: 'lab',
        hub: { ...hub, prefix: '/user/alice/lab', callback_path: '/user/alice/laboauth_callback' },
      },
      'invalid_body',
      /hub.prefix/,
    ],
    [
      'a callback outside the prefix',
      { app: 'lab', hub: { ...hub, callback_path: '/hub/oauth_callback' } },
      'invalid_body',
      /hub.callback_path/,
    ],
    [
      'an api_url that is no http URL',
      { app: 'lab', hub: { ...hub, api_url: 'file:///etc/' } },
      'invalid_body',
      /hub.api_url/,
    ],
    [
      'an api_url with a query',
      { app: 'lab', hub: { ...hub, api_url: 'http://h/hub/api/?x=1' } },
      'invalid_body',
      /hub.api_url/,
    ],
    [
      'an api_url with credentials',
      { app: 'lab', hub: { ...hub, api_url: 'http://u:p@h/hub/api/' } },
      'invalid_body',
      /hub.api_url/,
    ],
    [
      'an empty token',
      { app: 'lab', hub: { ...hub, api_token: '' } },
      'invalid_body',
      /hub.api_token/,
    ],
    [
      'a token with a newline',
      { app: 'lab', hub: { ...hub, api_token: 'a\nb' } },
      'invalid_body',
      /hub.api_token/,
    ],
    [
      'scopes that are no list',
      { app: 'lab', hub: { ...hub, access_scopes: 'access:servers' } },
      'invalid_body',
      /hub.access_scopes/,
    ],
    [
      'a scope that is no string',
      { app: 'lab', hub: { ...hub, access_scopes: [1] } },
      'invalid_body',
      /hub.access_scopes/,
    ],
    [
      'a zero start_timeout',
      { app: 'lab', hub, start_timeout: 0 },
      'invalid_body',
      /start_timeout/,
    ],
    [
      'a start_timeout in words',
      { app: 'lab', hub, start_timeout: '60' },
      'invalid_body',
      /start_timeout/,
    ],
    ['an array', [hub], 'invalid_body', /JSON object/],
  ];
  for (const [what, body, code, field] of bad)
    it(`refuses ${what} (${code}, naming the field)`, () => {
      assert.throws(() => parseHubStartBody(body, 'alice'), refusal(code, field));
    });
});

describe("the route's hub user name", () => {
  it("takes the hub's own names, e.g. an e-mail address", () => {
    assert.equal(checkHubUser('alice@example.org'), 'alice@example.org');
  });
  for (const name of ['', 'a/b', 'a\nb', 'x'.repeat(256)])
    it(`refuses ${JSON.stringify(name.slice(0, 12))}`, () => {
      assert.throws(() => checkHubUser(name), refusal('invalid_name', /JupyterHub user name/));
    });
});
