import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decidePortAccess, parsePortAccess } from '../../../src/api/port-access.js';
import { serverOfPortLabel } from '../../../src/api/port-host.js';
import type { ApiDeps } from '../../../src/api/deps.js';
import { Urls } from '../../../src/config/urls.js';
import { portLabel } from '../../../src/port-label.js';
import { openDb, type Db } from '../../../src/store/db.js';
import { PortStore, type PortForward } from '../../../src/store/server-ports.js';
import { ServerStore, type NewServer, type ServerRow } from '../../../src/store/servers.js';

const server = (name: string, user = 'alice'): NewServer => ({
  user,
  name,
  app: 'lab',
  options: {},
  port: null as unknown as number,
  secret: 's',
  logFile: '/tmp/x.log',
  actor: user,
});

/**
 * Who may use a user's own port, decided on a real SQLite file and fakes of the rest: the
 * user policy (everyone passes), the shares (bob has a share of every server), the admin
 * setting, the manager (records audits and dropped forwards).
 */
describe("users' own ports: who may use one (port-access)", () => {
  let dir: string;
  let db: Db;
  let servers: ServerStore;
  let ports: PortStore;
  let audits: string[];
  let dropped: PortForward[];
  let config: {
    admin_access: boolean;
    sharing: boolean;
    sharing_same_site: boolean;
    apps_domain: string | undefined;
    user_ports: {
      enabled: boolean;
      ranges: [number, number][];
      host_ports: boolean;
      max_open_per_user: number;
      cors: never[];
    };
  };
  let deps: ApiDeps;

  const running = (name: string, user = 'alice'): ServerRow => {
    const row = servers.claim(server(name, user));
    servers.transition(row.id, 'starting', { message: 'spawned' });
    return servers.transition(row.id, 'running', { message: 'ready' })!;
  };
  const refusal = async (
    row: ServerRow,
    who: { name: string; admin: boolean },
    port: number,
    kind: 'server' | 'host' = 'server',
  ) => {
    try {
      await decidePortAccess(deps, row, who, { port, kind });
    } catch (err) {
      return err as { code: string; status: number; message: string };
    }
    assert.fail(`${who.name} was let into port ${port}`);
  };

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hubapps-port-access-'));
    db = openDb(path.join(dir, 'db.sqlite'));
    servers = new ServerStore(db);
    ports = new PortStore(db);
    audits = [];
    dropped = [];
    config = {
      admin_access: false,
      sharing: true,
      sharing_same_site: false,
      apps_domain: 'apps.example.net',
      user_ports: {
        enabled: true,
        ranges: [[1024, 65535]],
        host_ports: false,
        max_open_per_user: 2,
        cors: [],
      },
    };
    const urls = new Urls(
      {
        base_url: '/',
        apps_prefix: '/apps/',
        service_prefix: '/services/hubapps/',
        public_url: 'https://hub.example.org',
        apps_domain: 'apps.example.net',
      },
      'http://127.0.0.1:1',
    );
    const catalog = new Map([['lab', { name: 'lab', file: '/x/lab.yaml', shareable: true }]]);
    deps = {
      config,
      urls,
      catalog: () => ({ get: (n: string) => catalog.get(n), list: () => [...catalog.values()] }),
      users: {
        check: async (name: string) => ({ name, uid: 2000, groups: [] }),
        appAllowed: () => true,
      },
      shares: { grants: (_id: number, user: string) => user === 'bob' },
      ports,
      manager: {
        audit: (_row: unknown, message: string) => audits.push(message),
        ports: { dropped: async (f: PortForward) => void dropped.push(f) },
      },
    } as unknown as ApiDeps;
  });
  afterEach(() => {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('lets the owner in and records the forward once, refreshing it afterwards', async () => {
    const row = running('lab');
    assert.equal(
      await decidePortAccess(
        deps,
        row,
        { name: 'alice', admin: false },
        { port: 8787, kind: 'server' },
      ),
      'owner',
    );
    const first = ports.get(row.id, { port: 8787, kind: 'server' })!;
    assert.equal(first.shared, 0);
    await new Promise((r) => setTimeout(r, 5));
    await decidePortAccess(
      deps,
      row,
      { name: 'alice', admin: false },
      { port: 8787, kind: 'server' },
    );
    const again = ports.get(row.id, { port: 8787, kind: 'server' })!;
    assert.ok(again.last_seen > first.last_seen, 'last_seen moved on');
    assert.deepEqual(audits, ["alice opened port 8787 of alice's server 'lab'"]);
  });

  it('refuses a port outside the ranges, a host port without host_ports, and a stopped server, each naming what to change', async () => {
    config.user_ports.ranges = [[8000, 8999]];
    const row = running('lab');
    const owner = { name: 'alice', admin: false };
    const outside = await refusal(row, owner, 22);
    assert.equal(outside.status, 403);
    assert.equal(outside.code, 'port_not_allowed');
    assert.match(outside.message, /port 22 is not in user_ports\.ranges \(8000-8999\)/);
    const host = await refusal(row, owner, 8080, 'host');
    assert.match(host.message, /user_ports\.host_ports/);
    config.user_ports.host_ports = true;
    await decidePortAccess(deps, row, owner, { port: 8080, kind: 'host' });
    config.user_ports.enabled = false;
    const off = await refusal(row, owner, 8080);
    assert.equal(off.code, 'ports_off');
    assert.match(off.message, /user_ports\.enabled/);
    config.user_ports.enabled = true;
    servers.transition(row.id, 'stopping', { message: 'stop' });
    const stopped = await refusal(servers.byId(row.id)!, owner, 8080);
    assert.equal(stopped.code, 'server_not_running');
    assert.match(stopped.message, /start it to reach its ports/);
    assert.equal(ports.forServer(row.id).length, 1, 'no refusal recorded a forward');
  });

  it('lets an admin in only with admin_access, and says so', async () => {
    const row = running('lab');
    const admin = { name: 'root-ish', admin: true };
    const refused = await refusal(row, admin, 8787);
    assert.equal(refused.code, 'not_owner');
    assert.match(refused.message, /admins may open other users' ports only with admin_access on/);
    config.admin_access = true;
    assert.equal(await decidePortAccess(deps, row, admin, { port: 8787, kind: 'server' }), 'admin');
  });

  it('refuses another user without a share, and a visitor with a share until the owner shares that port', async () => {
    const row = running('lab');
    const carol = await refusal(row, { name: 'carol', admin: false }, 8787);
    assert.equal(carol.code, 'not_owner');
    const bob = { name: 'bob', admin: false };
    const unshared = await refusal(row, bob, 8787);
    assert.equal(unshared.code, 'port_not_shared');
    assert.match(
      unshared.message,
      /alice has shared the server 'lab' but not port 8787 .*ask them to share that port/,
    );
    assert.equal(
      ports.get(row.id, { port: 8787, kind: 'server' }),
      undefined,
      'a visitor opens nothing',
    );
    await decidePortAccess(
      deps,
      row,
      { name: 'alice', admin: false },
      { port: 8787, kind: 'server' },
    );
    assert.equal((await refusal(row, bob, 8787)).code, 'port_not_shared', 'opened but not shared');
    assert.ok(ports.setShared(row.id, { port: 8787, kind: 'server' }, true));
    assert.equal(await decidePortAccess(deps, row, bob, { port: 8787, kind: 'server' }), 'share');
    assert.equal((await refusal(row, bob, 8788)).code, 'port_not_shared', 'only that port');
  });

  it('refuses a visitor when the layout cannot share at all (the path layout)', async () => {
    deps = {
      ...deps,
      urls: new Urls(
        {
          base_url: '/',
          apps_prefix: '/apps/',
          service_prefix: '/s/',
          public_url: 'https://hub.example.org',
        },
        'http://127.0.0.1:1',
      ),
    } as ApiDeps;
    const row = running('lab');
    await decidePortAccess(
      deps,
      row,
      { name: 'alice', admin: false },
      { port: 8787, kind: 'server' },
    );
    ports.setShared(row.id, { port: 8787, kind: 'server' }, true);
    assert.equal((await refusal(row, { name: 'bob', admin: false }, 8787)).code, 'not_owner');
  });

  it("caps the owner's open forwards across servers, dropping an idle unshared one first", async () => {
    const lab = running('lab');
    const term = running('term');
    const alice = { name: 'alice', admin: false };
    await decidePortAccess(deps, lab, alice, { port: 8000, kind: 'server' });
    await decidePortAccess(deps, term, alice, { port: 8001, kind: 'server' });
    const full = await refusal(lab, alice, 8002);
    assert.equal(full.status, 409);
    assert.equal(full.code, 'port_cap_reached');
    assert.match(
      full.message,
      /alice has 2 ports open, the most allowed \(user_ports\.max_open_per_user: 2\).*close one in the launcher/,
    );
    // Reuse of an open forward is never capped.
    await decidePortAccess(deps, lab, alice, { port: 8000, kind: 'server' });
    // 8001 has not been used for an hour (nothing listens on it any more): it makes room.
    db.prepare(
      "UPDATE server_ports SET last_seen = '2000-01-01T00:00:00.000Z' WHERE port = 8001",
    ).run();
    await decidePortAccess(deps, lab, alice, { port: 8002, kind: 'server' });
    assert.deepEqual(
      dropped.map((d) => [d.name, d.port]),
      [['term', 8001]],
    );
    assert.deepEqual(ports.forServer(term.id), []);
    assert.ok(
      audits.some((a) => /port 8001 of alice's server 'term' was closed to make room/.test(a)),
    );
    // A shared forward is the owner's choice: never dropped, however old.
    ports.setShared(lab.id, { port: 8000, kind: 'server' }, true);
    db.prepare(
      "UPDATE server_ports SET last_seen = '2000-01-01T00:00:00.000Z' WHERE port = 8000",
    ).run();
    assert.equal((await refusal(lab, alice, 8003)).code, 'port_cap_reached');
    // Another user's forwards and a stopped server's do not count.
    const bobs = running('x', 'bob');
    await decidePortAccess(
      deps,
      bobs,
      { name: 'bob', admin: false },
      { port: 9000, kind: 'server' },
    );
    for (const id of [term.id, lab.id]) {
      servers.transition(id, 'stopping', { message: 'stop' });
      servers.transition(id, 'stopped', { message: 'stopped' });
    }
    const fresh = running('other');
    await decidePortAccess(deps, fresh, alice, { port: 8004, kind: 'server' });
  });

  it('takes only a well-formed port-access body', () => {
    assert.deepEqual(parsePortAccess({ serverId: 1, user: 'alice', port: 8787, kind: 'host' }), {
      serverId: 1,
      user: 'alice',
      port: 8787,
      kind: 'host',
    });
    for (const [body, words] of [
      [{ user: 'alice', port: 1, kind: 'server' }, /serverId/],
      [{ serverId: 1, user: '../x', port: 1, kind: 'server' }, /user/],
      [
        { serverId: 1, user: 'alice', port: 0, kind: 'server' },
        /port must be a whole number from 1 to 65535/,
      ],
      [{ serverId: 1, user: 'alice', port: 65536, kind: 'server' }, /port must/],
      [{ serverId: 1, user: 'alice', port: 1.5, kind: 'server' }, /port must/],
      [{ serverId: 1, user: 'alice', port: 80, kind: 'other' }, /kind must be "server"/],
      [null, /serverId/],
    ] as const) {
      assert.throws(
        () => parsePortAccess(body),
        (err: { code: string; message: string }) => {
          assert.equal(err.code, 'invalid_body');
          assert.match(err.message, words);
          return true;
        },
      );
    }
  });
});

describe("users' own ports: which server a port host names", () => {
  const rows = [
    { user: 'alice', name: 'lab' },
    { user: 'Bob.Smith', name: 'My_Lab' },
    { user: 'bob-smith', name: 'my-lab' },
  ];

  it('reads a plain label back into its owner, server and port', () => {
    assert.deepEqual(
      serverOfPortLabel(portLabel('alice', 'lab', 8787, 'server'), () => []),
      {
        user: 'alice',
        name: 'lab',
        port: { port: 8787, kind: 'server' },
      },
    );
    assert.deepEqual(serverOfPortLabel('22--h--lab--alice', () => [])?.port, {
      port: 22,
      kind: 'host',
    });
  });

  it('finds a hashed label among the candidates by its exact pair, never a look-alike', () => {
    const label = portLabel('Bob.Smith', 'My_Lab', 6006, 'server');
    assert.equal(label.split('--').length, 5, 'the hashed form');
    assert.deepEqual(
      serverOfPortLabel(label, () => rows),
      {
        user: 'Bob.Smith',
        name: 'My_Lab',
        port: { port: 6006, kind: 'server' },
      },
    );
    // Same squeezed names, other pair: the digest tells them apart.
    assert.equal(
      serverOfPortLabel(label, () => [rows[2]!]),
      undefined,
    );
    assert.equal(
      serverOfPortLabel(label, () => []),
      undefined,
    );
  });

  it('is nothing for a server label, a forged plain label or a malformed one', () => {
    assert.equal(
      serverOfPortLabel('lab--alice', () => rows),
      undefined,
    );
    assert.equal(
      serverOfPortLabel('08787--p--lab--alice', () => rows),
      undefined,
    );
    assert.equal(
      serverOfPortLabel('8787--p--lab--alice--aaaaaaaaaaaaaaaa', () => rows),
      undefined,
    );
    assert.equal(
      serverOfPortLabel('99999--p--lab--alice', () => rows),
      undefined,
    );
  });
});
