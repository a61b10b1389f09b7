import assert from 'node:assert/strict';
import { HubappsError } from '../../../src/errors.js';
import type { HubStart } from '../../../src/lifecycle/hub-start.js';
import { readyTimeout } from '../../../src/lifecycle/hub-start.js';
import type { Actor } from '../../../src/lifecycle/start.js';
import { reconcile } from '../../../src/lifecycle/reconcile.js';
import { checkServerName, checkUserName } from '../../../src/names.js';
import { lifecycleBed, type Bed } from '../../helpers/lifecycle-bed.js';
import { tmpDir, type TmpDir } from '../../helpers/tmp.js';
import { waitFor } from '../../helpers/wait.js';

const SPAWNER: Actor = { name: 'jupyterhub', admin: false, spawner: true };
const ALICE = { name: 'alice', admin: false };
const ADMIN = { name: 'root', admin: true };

const hubStart = (name: string, startTimeoutS?: number): HubStart => ({
  binding: {
    apiUrl: 'http://127.0.0.1:8081/hub/api/',
    authorizePath: '/hub/api/oauth2/authorize',
    apiToken: 'hub-token-of-the-server',
    clientId: `jupyterhub-user-alice-${name}`,
    callbackPath: `/user/alice/${name}/oauth_callback`,
    accessScopes: [`access:servers!server=alice/${name}`],
    user: 'alice',
    server: name,
  },
  prefix: `/user/alice/${name}/`,
  startTimeoutS,
});

const code = (expected: string) => (err: unknown) =>
  err instanceof HubappsError && err.code === expected;

describe('lifecycle of servers the hub starts (fake launcher, in-memory CHP)', function () {
  this.timeout(10_000);
  let dir: TmpDir;
  let bed: Bed;
  const forwarded: string[] = [];

  beforeEach(async () => {
    dir = await tmpDir('hub-servers');
    bed = lifecycleBed(dir.path, { port_range: { min: 41000, max: 41999 } });
    forwarded.length = 0;
    bed.deps.activitySink = async (user, at, hub) =>
      void forwarded.push(`${user} ${at} ${JSON.stringify(hub ?? null)}`);
  });
  afterEach(async () => {
    bed?.manager.close();
    await dir?.remove();
  });

  const startForHub = (name: string, actor = SPAWNER, timeout?: number) =>
    bed.manager.start(actor, checkUserName('alice'), checkServerName(name), {
      app: 'fake',
      options: {},
      hub: hubStart(name, timeout),
    });
  const settledIn = (name: string, state: string) =>
    waitFor(() => bed.row(name).state === state, { what: `${name} to be ${state}` });

  it('asks the proxy for TCP on port, the app on appPort, the hub prefix, no users ports, no route of its own', async () => {
    const row = await startForHub('lab', SPAWNER, 3);
    const spec = bed.launcher.specs.get(row.id)!;
    assert.equal(spec.port, row.port);
    assert.equal(spec.appPort, row.app_port);
    assert.notEqual(spec.port, spec.appPort);
    for (const p of [spec.port, spec.appPort!]) assert.ok(p >= 41000 && p <= 41999, `${p}`);
    assert.equal(spec.prefix, '/user/alice/lab/');
    assert.equal(spec.hub?.apiToken, 'hub-token-of-the-server');
    assert.equal(spec.ports, undefined);
    assert.equal(spec.ownOrigin, undefined);
    assert.equal(spec.readyTimeoutMs, 3000, "the hub's start_timeout, below the app's 5 s");
    bed.launcher.ready(row.id);
    await settledIn('lab', 'running');
    assert.equal(bed.routes.routes.size, 0, 'hubapps routed a hub server');
    assert.ok(!bed.launcher.calls.some((c) => c.startsWith('route')));
  });

  it('reconcile neither adds its route nor removes a route it does not own', async () => {
    const row = await startForHub('lab');
    bed.launcher.ready(row.id);
    await settledIn('lab', 'running');
    // The hub's own route for the server, as its CHP holds it: untagged, so not hubapps'.
    bed.routes.routes.set('/user/alice/lab', {
      path: '/user/alice/lab',
      target: `http://127.0.0.1:${row.port}`,
      data: { hub: true } as never,
    });
    await reconcile(bed.deps, bed.manager);
    const routes = [...bed.routes.routes.keys()];
    assert.ok(routes.includes('/user/alice/lab'), "the hub's route went");
    // Only hubapps' own catch-all and service route: nothing of the server.
    assert.deepEqual(
      routes.filter((r) => r.includes('alice')),
      ['/user/alice/lab'],
      `routes: ${routes.join(' ')}`,
    );
  });

  it('stops without touching routes, and the spawner may stop only hub servers', async () => {
    const own = await bed.manager.start(ALICE, checkUserName('alice'), checkServerName('own'), {
      app: 'fake',
      options: {},
    });
    await assert.rejects(
      bed.manager.stop(SPAWNER, checkUserName('alice'), checkServerName('own')),
      code('not_owner'),
    );
    assert.equal(bed.row('own').state, 'starting');
    await bed.manager.stop(ALICE, checkUserName('alice'), checkServerName('own'));
    const row = await startForHub('lab');
    bed.launcher.ready(row.id);
    await settledIn('lab', 'running');
    const before = bed.launcher.calls.length;
    const stopped = await bed.manager.stop(SPAWNER, checkUserName('alice'), checkServerName('lab'));
    assert.equal(stopped.state, 'stopped');
    assert.deepEqual(bed.launcher.calls.slice(before), [`stop ${row.id} routeRemoved`]);
    assert.equal(own.hub_user, null);
  });

  it('only the spawner starts for the hub, and the spawner only for the hub', async () => {
    await assert.rejects(startForHub('a', ALICE), code('not_owner'));
    await assert.rejects(startForHub('b', ADMIN), code('not_owner'));
    await assert.rejects(
      bed.manager.start(SPAWNER, checkUserName('alice'), checkServerName('c'), {
        app: 'fake',
        options: {},
      }),
      code('not_owner'),
    );
    assert.equal(bed.deps.store.list().length, 0);
  });

  it("forwards activity under the hub's user and server names", async () => {
    const row = await startForHub('lab');
    bed.manager.recordActivity(bed.row('lab'), '2026-12-07T10:00:00.000Z');
    assert.deepEqual(forwarded, [
      `alice 2026-12-07T10:00:00.000Z ${JSON.stringify({ user: 'alice', server: 'lab' })}`,
    ]);
    assert.ok(row.id > 0);
  });

  it('refuses an app that runs as a Slurm job, which the hub could not route to, writing nothing', async () => {
    const slurm = lifecycleBed(`${dir.path}/slurm`, { slurm: { apps: ['fake'] } });
    try {
      await assert.rejects(
        slurm.manager.start(SPAWNER, checkUserName('alice'), checkServerName('lab'), {
          app: 'fake',
          options: {},
          hub: hubStart('lab'),
        }),
        (err: unknown) => code('app_not_allowed')(err) && /Slurm job/.test((err as Error).message),
      );
      assert.equal(slurm.deps.store.list().length, 0);
    } finally {
      slurm.manager.close();
    }
  });

  it("waits the app's timeout, never beyond the hub's start_timeout", () => {
    const cfg = { config: { spawn_timeout: 120 } } as never;
    assert.equal(readyTimeout(cfg, { ready: { timeout: 30 } } as never, undefined), 30);
    assert.equal(readyTimeout(cfg, { ready: {} } as never, hubStart('x', 60)), 60);
    assert.equal(readyTimeout(cfg, { ready: { timeout: 30 } } as never, hubStart('x', 60)), 30);
    assert.equal(readyTimeout(cfg, { ready: {} } as never, hubStart('x')), undefined);
  });
});
