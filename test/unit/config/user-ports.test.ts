import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../../src/config/load.js';
import { loadCatalog } from '../../../src/catalog/load.js';
import { appPortProblems, portPolicy, portRefusal } from '../../../src/catalog/port-policy.js';
import { configFailure } from '../../helpers/config-error.js';
import { scratchFiles } from '../../helpers/scratch-files.js';

const ENV = { CONFIGPROXY_AUTH_TOKEN: 'chp-token' };

describe("hubapps.yaml user_ports and an app file's ports", () => {
  const scratch = scratchFiles('hubapps-t-userports-');
  const file = scratch.file;
  const config = (text: string) => loadConfig(file(text), undefined, ENV).user_ports;

  it('defaults to on, ports 1024-65535, no host ports, 20 open forwards, no CORS', () => {
    assert.deepEqual(loadConfig(undefined, undefined, ENV).user_ports, {
      enabled: true,
      ranges: [[1024, 65535]],
      host_ports: false,
      max_open_per_user: 20,
      cors: [],
    });
  });

  it('reads single ports and ranges, and CORS rules with their origins lower-cased', () => {
    const cfg = config(
      'user_ports:\n  ranges: [8000-8999, 6006, "9000"]\n  host_ports: true\n  cors:\n    - {ports: 8000-8100, origins: [https://App.example.org]}\n',
    );
    assert.deepEqual(cfg.ranges, [
      [8000, 8999],
      [6006, 6006],
      [9000, 9000],
    ]);
    assert.equal(cfg.host_ports, true);
    assert.deepEqual(cfg.cors, [{ ports: [8000, 8100], origins: ['https://app.example.org'] }]);
  });

  for (const [text, key, words] of [
    ['user_ports:\n  ranges: [9000-8000]\n', 'user_ports.ranges[0]', /not a port or a range/],
    ['user_ports:\n  ranges: [0]\n', 'user_ports.ranges[0]', /1 <= A <= B <= 65535/],
    ['user_ports:\n  ranges: [70000]\n', 'user_ports.ranges[0]', /not a port or a range/],
    ['user_ports:\n  ranges: []\n', 'user_ports.ranges', /at least one/],
    ['user_ports:\n  max_open_per_user: 0\n', 'user_ports.max_open_per_user', /./],
    [
      'user_ports:\n  cors: [{ports: 8000, origins: ["http://evil.example.org"]}]\n',
      'user_ports.cors[0].origins[0]',
      /https/,
    ],
    [
      'user_ports:\n  cors: [{ports: 8000, origins: []}]\n',
      'user_ports.cors[0].origins',
      /at least one origin/,
    ],
    ['user_ports:\n  forward: true\n', 'user_ports', /unknown key 'forward'/],
  ] as const) {
    it(`refuses ${JSON.stringify(text.split('\n')[1]!.trim())} naming the file and ${key}`, () => {
      const err = configFailure(() => loadConfig(file(text), undefined, ENV));
      assert.match(err.message, /hubapps-\d+\.yaml: key '/);
      assert.ok(err.message.includes(`.yaml: key '${key}': `), err.message);
      assert.match(err.message, words);
    });
  }

  describe('the policy a server starts with (StartRequest.ports)', () => {
    const cfg = {
      enabled: true,
      ranges: [[8000, 8999] as [number, number]],
      host_ports: false,
      max_open_per_user: 20,
      cors: [{ ports: [8000, 8000] as [number, number], origins: ['https://a.example.org'] }],
    };
    const app = (ports?: false | { ranges: [number, number][] }) => ({
      name: 'lab',
      file: '/etc/hubapps/apps.d/lab.yaml',
      ports,
    });

    it("is the config's, narrowed by the app's ranges", () => {
      assert.deepEqual(portPolicy(cfg, app()), {
        ranges: [[8000, 8999]],
        hostPorts: false,
        cors: [{ ports: [8000, 8000], origins: ['https://a.example.org'] }],
      });
      assert.deepEqual(portPolicy(cfg, app({ ranges: [[8080, 8090]] }))?.ranges, [[8080, 8090]]);
    });

    it('is absent when user_ports.enabled is false or the app says ports: false', () => {
      assert.equal(portPolicy({ ...cfg, enabled: false }, app()), undefined);
      assert.equal(portPolicy(cfg, app(false)), undefined);
    });

    it("refuses an app range outside the config's, naming the file and key", () => {
      const err = configFailure(() => portPolicy(cfg, app({ ranges: [[7000, 8100]] })));
      assert.equal(
        err.message,
        "/etc/hubapps/apps.d/lab.yaml: key 'ports.ranges': 7000-8100 lies outside the config's user_ports.ranges (8000-8999): an app file may only narrow them",
      );
      assert.deepEqual(appPortProblems(cfg, [app({ ranges: [[7000, 8100]] }), app()]), [
        err.message,
      ]);
    });

    it('names the setting in every refusal', () => {
      const policy = portPolicy(cfg, app())!;
      assert.equal(portRefusal(policy, app(), 8080, 'server'), null);
      assert.equal(
        portRefusal(policy, app(), 22, 'server')?.message,
        'port 22 is not in user_ports.ranges (8000-8999); use a port in that range',
      );
      assert.equal(portRefusal(policy, app(), 22, 'server')?.code, 'port_not_allowed');
      const narrowed = app({ ranges: [[8080, 8090]] });
      assert.match(
        portRefusal(portPolicy(cfg, narrowed), narrowed, 8000, 'server')!.message,
        /^port 8000 is not in app 'lab''s ports\.ranges \(8080-8090\)/,
      );
      assert.match(
        portRefusal(policy, app(), 8080, 'host')!.message,
        /not forwarded on this host \(config user_ports\.host_ports\)/,
      );
      assert.equal(portRefusal({ ...policy, hostPorts: true }, app(), 8080, 'host'), null);
      const off = portRefusal(undefined, app(false), 8080, 'server')!;
      assert.equal(off.code, 'ports_off');
      assert.match(off.message, /ports: false in its catalog file/);
      assert.match(portRefusal(undefined, app(), 8080, 'server')!.message, /user_ports\.enabled/);
    });

    it('reads ports from an app file, and refuses a malformed one naming the file and key', () => {
      const cat = mkdtempSync(join(scratch.dir, 'apps-'));
      writeFileSync(join(cat, 'tb.yaml'), 'title: TB\ncommand: [tb]\nports: {ranges: [6006]}\n');
      writeFileSync(join(cat, 'off.yaml'), 'title: Off\ncommand: [x]\nports: false\n');
      const apps = loadCatalog(cat);
      assert.deepEqual(apps.get('tb')?.ports, { ranges: [[6006, 6006]] });
      assert.equal(apps.get('off')?.ports, false);
      writeFileSync(join(cat, 'bad.yaml'), 'title: Bad\ncommand: [x]\nports: true\n');
      const err = configFailure(() => loadCatalog(cat));
      assert.match(err.message, /bad\.yaml: key 'ports'/);
    });
  });
});
