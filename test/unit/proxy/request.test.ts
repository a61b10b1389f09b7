import assert from 'node:assert/strict';
import { parseRequest } from '../../../src/proxy/request.js';
import type { StartRequest } from '../../../src/protocol/wire.js';

const START = {
  op: 'start',
  version: 1,
  server: { id: 3, user: 'alice', name: 'lab' },
  app: 'lab',
  options: {},
  port: 50123,
  secret: 'a-secret-of-sixteen-or-more',
  publicOrigin: 'https://hub.example.org',
  allowedOrigins: [],
  framing: { frames: 'server', popups: 'isolate' },
  prefix: '/apps/alice/lab/',
  serviceUrl: 'http://127.0.0.1:10101/services/hubapps/',
  stopGraceMs: 1000,
  readyTimeoutMs: 5000,
  logMaxBytes: 1 << 20,
};

const parse = (over: Record<string, unknown>) =>
  parseRequest(JSON.stringify({ ...START, ...over })) as StartRequest;

/** The message of the bad_request `over` is refused with. */
function refusal(over: Record<string, unknown>): string {
  try {
    parse(over);
  } catch (err) {
    assert.equal((err as { code?: string }).code, 'bad_request');
    return (err as Error).message;
  }
  assert.fail(`accepted ${JSON.stringify(over)}`);
}

describe("the proxy's check of what the start request puts into the app's environment", () => {
  it('takes the token, the group, base_url and the host environment as sent', () => {
    const req = parse({
      apiToken: 'ha_abcdefghijklmnopqrstuvwxyz012345',
      group: 'domain users',
      baseUrl: '/jh/',
      environment: { http_proxy: 'http://proxy:3128', PATH: '/opt/bin:/usr/bin' },
    });
    assert.equal(req.apiToken, 'ha_abcdefghijklmnopqrstuvwxyz012345');
    assert.equal(req.group, 'domain users');
    assert.equal(req.baseUrl, '/jh/');
    assert.deepEqual(req.environment, {
      http_proxy: 'http://proxy:3128',
      PATH: '/opt/bin:/usr/bin',
    });
  });

  it('takes a token JupyterHub issued (hex) as sent', () => {
    const hubToken = '0123456789abcdef0123456789abcdef';
    assert.equal(parse({ apiToken: hubToken }).apiToken, hubToken);
  });

  it('leaves them out when the service sent none (an older service)', () => {
    const req = parse({});
    assert.equal(req.apiToken, undefined);
    assert.equal(req.environment, undefined);
  });

  it('refuses variables hubapps sets itself, an account name and bad names or values, naming the variable', () => {
    assert.match(
      refusal({ environment: { JUPYTERHUB_API_TOKEN: 'x' } }),
      /'environment\.JUPYTERHUB_API_TOKEN' is refused: .*set by hubapps/,
    );
    assert.match(refusal({ environment: { HUBAPPS_SERVER_ID: '1' } }), /HUBAPPS_SERVER_ID/);
    assert.match(refusal({ environment: { HOME: '/tmp' } }), /'environment\.HOME'.*user's own/);
    assert.match(refusal({ environment: { 'A=B': 'x' } }), /letters, digits and _/);
    assert.match(refusal({ environment: { A: 'x\u0000y' } }), /NUL/);
    assert.match(refusal({ environment: { A: 1 } }), /must be strings/);
    assert.match(refusal({ environment: ['A=1'] }), /'environment' must be an object/);
  });

  it('refuses a token, group or base_url of the wrong shape', () => {
    assert.match(refusal({ apiToken: 'secret with spaces' }), /'apiToken' has an invalid value/);
    assert.match(refusal({ apiToken: 'ha_short' }), /'apiToken'/);
    assert.match(refusal({ apiToken: 'NOT-HEX-0123456789abcdef0123456789' }), /'apiToken'/);
    assert.match(refusal({ group: '' }), /'group'/);
    assert.match(refusal({ baseUrl: '/jh' }), /'baseUrl'/);
    assert.match(refusal({ baseUrl: '/../' }), /'baseUrl'/);
  });
});
