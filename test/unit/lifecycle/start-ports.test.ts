import assert from 'node:assert/strict';
import { loadConfig } from '../../../src/config/load.js';
import { Urls } from '../../../src/config/urls.js';
import type { ConfigInput } from '../../../src/config/schema.js';
import type { LifecycleDeps } from '../../../src/lifecycle/deps.js';
import { startRequest } from '../../../src/lifecycle/start.js';
import type { ServerRow } from '../../../src/store/servers.js';

const ENV = { CONFIGPROXY_AUTH_TOKEN: 'chp-token' };
const row = {
  id: 3,
  user: 'alice',
  name: 'tb',
  app: 'tb',
  options: '{}',
  form: '{}',
  port: 20001,
  secret: 's',
} as ServerRow;

/** StartRequest.ports: what the proxy is told about users' own ports, from the config and the app file. */
describe("a start request's port policy", () => {
  function request(over: Partial<ConfigInput>, ports?: false | { ranges: [number, number][] }) {
    const config = loadConfig(undefined, over, ENV);
    const deps = {
      config,
      urls: new Urls(config, 'http://127.0.0.1:1'),
      catalog: () => ({
        get: () => ({ name: 'tb', file: '/etc/hubapps/apps.d/tb.yaml', ports }),
        list: () => [],
      }),
    } as unknown as LifecycleDeps;
    return startRequest(deps, row, { readyTimeoutS: undefined, apiToken: 't' });
  }

  it("carries the config's ranges, host_ports and CORS rules by default", () => {
    assert.deepEqual(request({}).ports, { ranges: [[1024, 65535]], hostPorts: false, cors: [] });
    assert.deepEqual(
      request({
        user_ports: {
          ranges: ['6006', '8000-8999'],
          host_ports: true,
          cors: [{ ports: '8000-8010', origins: ['https://app.example.org'] }],
        },
      }).ports,
      {
        ranges: [
          [6006, 6006],
          [8000, 8999],
        ],
        hostPorts: true,
        cors: [{ ports: [8000, 8010], origins: ['https://app.example.org'] }],
      },
    );
  });

  it("takes the app's narrower ranges", () => {
    assert.deepEqual(request({}, { ranges: [[6006, 6006]] }).ports?.ranges, [[6006, 6006]]);
  });

  it('has none when user_ports.enabled is false or the app says ports: false', () => {
    assert.equal('ports' in request({ user_ports: { enabled: false } }), false);
    assert.equal('ports' in request({}, false), false);
  });

  it("fails the start naming the app file and key when the app's ranges reach outside the config's", () => {
    assert.throws(
      () => request({ user_ports: { ranges: ['8000-8999'] } }, { ranges: [[6006, 6006]] }),
      (err: { code: string; expose: boolean; message: string }) => {
        assert.equal(err.code, 'config_invalid');
        assert.equal(err.expose, true);
        assert.match(
          err.message,
          /^\/etc\/hubapps\/apps\.d\/tb\.yaml: key 'ports\.ranges': 6006 lies outside/,
        );
        return true;
      },
    );
  });
});
