import assert from 'node:assert/strict';
import type { Statement } from '../../../../src/ops/migrate/pyconf/parse.js';
import {
  JHPROXY_NOTE,
  PROXY_NOTE,
  portProxyNotes,
} from '../../../../src/ops/migrate/pyconf/port-proxy.js';

const assign = (line: number, text: string, target: string, value?: unknown): Statement => ({
  kind: 'assign',
  line,
  text,
  target: target.split('.'),
  ...(value === undefined ? { problem: 'not a literal' } : { value: value as never }),
});

describe('migrate-conf: port-proxy set-ups of the old stack', () => {
  it("notes jhproxy's import and spawner on their lines, naming user_ports and the new address form", () => {
    const notes = portProxyNotes([
      { kind: 'import', line: 1, text: 'from jhproxy.handlers import ProxyTokenHandler' },
      assign(
        4,
        "c.JupyterHub.spawner_class = 'jhproxy.spawners.TokenizedDockerSpawner'",
        'c.JupyterHub.spawner_class',
        'jhproxy.spawners.TokenizedDockerSpawner',
      ),
    ]);
    assert.deepEqual(
      notes.map((n) => n.line),
      [1, 4],
    );
    for (const n of notes) {
      assert.ok(n.message.endsWith(JHPROXY_NOTE), n.message);
      assert.match(n.message, /user_ports/);
      assert.match(n.message, /\/apps\/USER\/SERVER\/ports\/PORT\//);
      assert.match(n.message, /PORT--p--SERVER--USER\.APPS_DOMAIN/);
      assert.match(n.message, /Authorization: token/);
    }
  });

  it("notes the notebook extension's /proxy/PORT settings and /proxy/PORT addresses in values", () => {
    const notes = portProxyNotes([
      assign(2, "c.ServerProxy.host_allowlist = ['localhost']", 'c.ServerProxy.host_allowlist', [
        'localhost',
      ]),
      assign(
        3,
        "c.StandaloneProxyServer.environment = {'DASK_DISTRIBUTED__DASHBOARD__LINK': '/user/{USER}/proxy/{port}/status'}",
        'c.StandaloneProxyServer.environment',
        { DASK_DISTRIBUTED__DASHBOARD__LINK: '/user/{USER}/proxy/{port}/status' },
      ),
      assign(5, "c.X.y = ['/proxy/absolute/8787/']", 'c.X.y', ['/proxy/absolute/8787/']),
    ]);
    assert.deepEqual(
      notes.map((n) => n.line),
      [2, 3, 5],
    );
    for (const n of notes) assert.ok(n.message.endsWith(PROXY_NOTE), n.message);
    assert.match(PROXY_NOTE, /user_ports/);
    assert.match(PROXY_NOTE, /ports\/absolute\/PORT\//);
  });

  it('says nothing about a plain standalone app, its own port placeholder, or the servers the extension starts', () => {
    const notes = portProxyNotes([
      { kind: 'import', line: 1, text: 'from utils import *' },
      {
        kind: 'call',
        line: 2,
        text: 'custom_check_origin_patch()',
        callee: ['custom_check_origin_patch'],
      },
      assign(
        3,
        'c.StandaloneProxyServer.command = ["/usr/bin/python3", "-m", "http.server", "{port}"]',
        'c.StandaloneProxyServer.command',
        ['/usr/bin/python3', '-m', 'http.server', '{port}'],
      ),
      assign(4, "c.ServerProxy.servers = {'rstudio': {}}", 'c.ServerProxy.servers', {
        rstudio: {},
      }),
      assign(
        5,
        "c.StandaloneProxyServer.base_url = '/proxyish/'",
        'c.StandaloneProxyServer.base_url',
        '/proxyish/',
      ),
      assign(6, 'c.X.z = os.environ["P"]', 'c.X.z'),
    ]);
    assert.deepEqual(notes, []);
  });
});
