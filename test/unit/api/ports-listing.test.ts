import assert from 'node:assert/strict';
import { listPorts } from '../../../src/api/ports.js';
import type { ApiDeps } from '../../../src/api/deps.js';
import { Urls } from '../../../src/config/urls.js';
import type { ListeningPort } from '../../../src/protocol/wire.js';
import type { PortRow } from '../../../src/store/server-ports.js';
import type { ServerRow } from '../../../src/store/servers.js';

const row = { id: 7, user: 'alice', name: 'term', app: 'term', state: 'running' } as ServerRow;
const recorded = (port: number, kind: 'server' | 'host', shared = 0): PortRow => ({
  server_id: 7,
  port,
  kind,
  shared,
  opened_at: '2026-12-07T00:00:00.000Z',
  last_seen: '2026-12-07T00:00:00.000Z',
});

/** The ports API's listing: the proxy's answer merged with the recorded forwards, on fakes of both. */
describe("users' own ports: the listing GET …/ports answers", () => {
  function deps(listing: ListeningPort[] | null, rows: PortRow[], appsDomain?: string): ApiDeps {
    return {
      config: {
        user_ports: {
          enabled: true,
          ranges: [[1024, 9999]],
          host_ports: true,
          max_open_per_user: 20,
          cors: [],
        },
      },
      catalog: () => ({ get: () => ({ name: 'term', file: '/x/term.yaml' }), list: () => [] }),
      urls: new Urls(
        {
          base_url: '/',
          apps_prefix: '/apps/',
          service_prefix: '/services/hubapps/',
          public_url: 'https://hub.example.org',
          ...(appsDomain ? { apps_domain: appsDomain } : {}),
        },
        'http://127.0.0.1:1',
      ),
      ports: { forServer: () => rows },
      manager: { ports: { listening: async () => listing } },
    } as unknown as ApiDeps;
  }

  it('marks what a process listens on as listening, a recorded forward without a listener as closed, a host port as unknown', async () => {
    const listing = [
      { port: 6006, command: 'tensorboard', pid: 10 },
      { port: 22, command: 'sshd-ish', pid: 11 },
      { port: 8787, command: 'python3', pid: 12 },
    ];
    const ports = await listPorts(
      deps(listing, [
        recorded(8787, 'server', 1),
        recorded(5000, 'server'),
        recorded(8888, 'host'),
      ]),
      row,
    );
    assert.deepEqual(ports, [
      {
        port: 5000,
        kind: 'server',
        state: 'closed',
        command: null,
        url: '/apps/alice/term/ports/5000/',
        shared: false,
      },
      {
        port: 6006,
        kind: 'server',
        state: 'listening',
        command: 'tensorboard',
        url: '/apps/alice/term/ports/6006/',
        shared: false,
      },
      {
        port: 8787,
        kind: 'server',
        state: 'listening',
        command: 'python3',
        url: '/apps/alice/term/ports/8787/',
        shared: true,
      },
      {
        port: 8888,
        kind: 'host',
        state: 'unknown',
        command: null,
        url: '/apps/alice/term/host-ports/8888/',
        shared: false,
      },
    ]);
  });

  it('lists only the recorded forwards, state unknown, when the proxy cannot list (an older build)', async () => {
    const ports = await listPorts(deps(null, [recorded(5000, 'server')]), row);
    assert.deepEqual(
      ports.map((p) => [p.port, p.state]),
      [[5000, 'unknown']],
    );
  });

  it("gives each port its own host's URL under per-server origins", async () => {
    const ports = await listPorts(
      deps(
        [{ port: 6006, command: 'tensorboard', pid: 1 }],
        [recorded(8888, 'host')],
        'apps.example.net',
      ),
      row,
    );
    assert.deepEqual(
      ports.map((p) => p.url),
      [
        'https://6006--p--term--alice.apps.example.net/',
        'https://8888--h--term--alice.apps.example.net/',
      ],
    );
  });
});
