import assert from 'node:assert/strict';
import { startLocalStack, type LocalStack } from '../../helpers/stack.js';

const IDLE = [
  process.execPath,
  '-e',
  'require("http").createServer((q, s) => s.end("ok")).listen(+process.argv[1], "127.0.0.1")',
  '{port}',
];
const APPS = {
  lab: {
    title: 'Lab',
    command: IDLE,
    limits: { mem_mb: 100, choices: { mem_mb: { max: 300 }, cpus: { max: 2 } } },
  },
  plain: { title: 'Plain', command: IDLE },
};

describe('api: memory and cores a user may choose for a server on this host', function () {
  this.timeout(30000);
  let stack: LocalStack;
  before(
    async () =>
      (stack = await startLocalStack({
        apps: APPS,
        config: { server_limits: { cgroups: 'off' } },
      })),
  );
  after(async () => stack?.stop());

  it('offers nothing while cgroups are off, and takes no option then', async () => {
    const r = await stack.api('GET', '/apps');
    assert.deepEqual(r.body.apps.find((a: { name: string }) => a.name === 'lab').options, []);
    const start = await stack.api('POST', '/users/alice/servers/x', {
      app: 'lab',
      options: { mem_mb: 200 },
    });
    assert.equal(start.status, 400);
    assert.equal(start.body.code, 'unknown_option');
  });
});

describe('api: per-server limits on this host, as the start dialog and the API see them', function () {
  this.timeout(30000);
  let stack: LocalStack;
  before(
    async () =>
      (stack = await startLocalStack({
        apps: APPS,
        config: { server_limits: { cgroups: 'auto', max_mem_mb: 250, user_mem_mb: 340 } },
      })),
  );
  after(async () => stack?.stop());

  it("lists the app's choices for the start dialog, capped by the admin, with the app's default", async () => {
    const r = await stack.api('GET', '/apps');
    const lab = r.body.apps.find((a: { name: string }) => a.name === 'lab');
    assert.deepEqual(lab.options, [
      {
        type: 'number',
        name: 'mem_mb',
        label: 'Memory (MB)',
        min: 1,
        max: 250,
        step: 1,
        default: 100,
      },
      { type: 'number', name: 'cpus', label: 'CPU cores', min: 1, max: 2, step: 1, default: 1 },
    ]);
    assert.deepEqual(r.body.apps.find((a: { name: string }) => a.name === 'plain').options, []);
  });

  it('refuses a choice above the cap with 400 and writes nothing', async () => {
    const r = await stack.api('POST', '/users/alice/servers/x', {
      app: 'lab',
      options: { mem_mb: 251 },
    });
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.equal(r.body.code, 'option_out_of_range');
    assert.match(r.body.message, /from 1 to 250/);
    assert.equal(stack.service.deps.store.list().length, 0);
  });

  it("refuses the start that would pass the user's memory total with 429, naming what her servers hold", async () => {
    assert.equal(
      (await stack.api('POST', '/users/alice/servers/a', { app: 'lab', options: { mem_mb: 250 } }))
        .status,
      202,
    );
    const r = await stack.api('POST', '/users/alice/servers/b', { app: 'lab' });
    assert.equal(r.status, 429, JSON.stringify(r.body));
    assert.equal(r.body.code, 'limit_reached');
    assert.match(
      r.body.message,
      /alice's active servers hold 250 MB of memory; this start asks for 100 MB more, beyond the 340 MB/,
    );
    assert.equal(stack.service.deps.store.get('alice', 'b'), undefined);
  });
});

describe("api: a group's settings (group_settings) in the start dialog and the API", function () {
  this.timeout(30000);
  let stack: LocalStack;
  before(
    async () =>
      // In local mode every account is in the group 'local'.
      (stack = await startLocalStack({
        apps: APPS,
        config: {
          server_limits: { cgroups: 'auto', max_mem_mb: 250 },
          group_settings: { local: { max_mem_mb: 120, servers_per_user: 1 } },
        },
      })),
  );
  after(async () => stack?.stop());

  it("offers the group's caps, refuses a choice above them, and holds the group's members to its servers_per_user", async () => {
    const apps = await stack.api('GET', '/apps');
    const lab = apps.body.apps.find((a: { name: string }) => a.name === 'lab');
    assert.equal(lab.options.find((o: { name: string }) => o.name === 'mem_mb').max, 120);
    const over = await stack.api('POST', '/users/alice/servers/x', {
      app: 'lab',
      options: { mem_mb: 121 },
    });
    assert.equal(over.status, 400, JSON.stringify(over.body));
    assert.match(over.body.message, /from 1 to 120/);
    const first = await stack.api('POST', '/users/alice/servers/a', { app: 'plain' });
    assert.equal(first.status, 202, JSON.stringify(first.body));
    const second = await stack.api('POST', '/users/alice/servers/b', { app: 'plain' });
    assert.equal(second.status, 429, JSON.stringify(second.body));
    assert.match(second.body.message, /1 active servers \(group_settings of alice's groups\)/);
    assert.equal(stack.service.deps.store.get('alice', 'b'), undefined);
  });
});
