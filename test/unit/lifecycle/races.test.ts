import assert from 'node:assert/strict';
import { checkServerName, checkUserName } from '../../../src/names.js';
import { reconcile } from '../../../src/lifecycle/reconcile.js';
import { lifecycleBed, type Bed } from '../../helpers/lifecycle-bed.js';
import { tmpDir, type TmpDir } from '../../helpers/tmp.js';
import { waitFor } from '../../helpers/wait.js';

const ALICE = { name: 'alice', admin: false };

describe('lifecycle races on a fake launcher and an in-memory route table', function () {
  this.timeout(10_000);
  let dir: TmpDir;
  let bed: Bed;

  beforeEach(async () => {
    dir = await tmpDir('races');
    bed = lifecycleBed(dir.path);
  });
  afterEach(async () => {
    bed?.manager.close();
    await dir?.remove();
  });

  const start = (name: string) =>
    bed.manager.start(ALICE, checkUserName('alice'), checkServerName(name), {
      app: 'fake',
      options: {},
    });
  const stop = (name: string) =>
    bed.manager.stop(ALICE, checkUserName('alice'), checkServerName(name));
  const settledIn = (name: string, state: string) =>
    waitFor(() => bed.row(name).state === state, { timeout: 5000, what: `${name} to be ${state}` });

  it('a stop while the proxy is still being spawned: stopped, the late proxy stopped, no route', async () => {
    bed.launcher.scripts.set('slow', { spawnMs: 200, readyMs: 0 });
    const starting = start('slow');
    await waitFor(() => bed.launcher.calls.length > 0, { what: 'the spawn to begin' });
    assert.equal((await stop('slow')).state, 'stopped');
    await assert.rejects(starting, { code: 'start_aborted' });
    assert.equal(bed.row('slow').state, 'stopped');
    assert.deepEqual(bed.launcher.running(), []);
    assert.ok(bed.launcher.calls.includes(`stop ${bed.row('slow').id} routeRemoved`));
    assert.equal(bed.routes.routes.size, 0);
  });

  it('a stop while the app is not ready yet: the watch steps aside and never routes it', async () => {
    const row = await start('waiting');
    assert.equal(row.state, 'starting');
    assert.equal((await stop('waiting')).state, 'stopped');
    assert.deepEqual(bed.launcher.calls.slice(-2), [
      `unroute ${bed.route('waiting')}`,
      `stop ${row.id} routeRemoved`,
    ]);
    bed.launcher.ready(row.id);
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(bed.row('waiting').state, 'stopped');
    assert.equal(bed.routes.routes.size, 0);
    assert.deepEqual(bed.launcher.running(), []);
  });

  it('a stop racing readiness, in every order: stopped, no route and no proxy left', async () => {
    for (let delay = 0; delay < 12; delay++) {
      const name = `race${delay}`;
      const row = await start(name);
      bed.launcher.ready(row.id);
      await new Promise((r) => setTimeout(r, delay * 4));
      const stopped = await stop(name);
      assert.equal(stopped.state, 'stopped', `${name}: ${stopped.state}`);
      await new Promise((r) => setTimeout(r, 60));
      assert.equal(bed.row(name).state, 'stopped', name);
      assert.ok(!bed.routes.routes.has(bed.route(name)), `${name} kept its route`);
    }
    assert.deepEqual(bed.launcher.running(), []);
  });

  it('keeps the launch of a server it started until the server ends, and restores one whose row saved other state', async () => {
    await start('kept');
    const launches = bed.manager.launches;
    assert.equal(launches.size, 1);
    const live = launches.of(bed.row('kept'));
    assert.equal(launches.of(bed.row('kept')), live, 'the same launch each time');
    const other = { ...bed.row('kept'), launcher_state: '{"fake":0}' };
    assert.notEqual(launches.of(other), live, 'a row whose saved state differs is restored');
    await stop('kept');
    assert.equal(launches.size, 0);
  });

  it('a proxy that dies before its app is ready: failed with the exit, stopped, no route', async () => {
    const row = await start('crashy');
    bed.launcher.crash(row.id, { code: 3, signal: null });
    await settledIn('crashy', 'failed');
    assert.ok(bed.row('crashy').reason, 'the failure says why');
    assert.ok(bed.launcher.calls.includes(`stop ${row.id} routeRemoved`));
    assert.equal(bed.routes.routes.size, 0);
    assert.equal(bed.manager.launches.size, 0);
  });

  it('an app that exits after it ran: the route goes before what is left is killed', async () => {
    const row = await start('done');
    bed.launcher.ready(row.id);
    await settledIn('done', 'running');
    assert.ok(bed.routes.routes.has(bed.route('done')));
    bed.launcher.exit(row.id, { code: 0, signal: null });
    await settledIn('done', 'stopped');
    assert.ok(!bed.routes.routes.has(bed.route('done')));
    assert.deepEqual(bed.launcher.calls.slice(-2), [
      `unroute ${bed.route('done')}`,
      `kill ${row.id}`,
    ]);
  });

  it('reconcile: a vanished proxy is marked, a missing route is put back, a stale one goes, a start in progress is left alone', async () => {
    const gone = await start('gone');
    const kept = await start('kept');
    for (const r of [gone, kept]) bed.launcher.ready(r.id);
    await settledIn('gone', 'running');
    await settledIn('kept', 'running');
    await start('busy');
    // Behind the service's back: gone's proxy dies unseen, kept's route is lost, a stale route appears.
    bed.launcher.servers.get(gone.id)!.phase = 'stopped';
    bed.routes.routes.delete(bed.route('kept'));
    await bed.routes.add(bed.route('ghost'), 'http://fake.invalid/99', {
      hubapps: true,
      kind: 'server',
      user: 'alice',
      server: 'ghost',
      serverId: 99,
    });
    const report = await reconcile(bed.deps, bed.manager);
    assert.equal(report.markedGone, 1);
    assert.ok(['failed', 'stopped'].includes(bed.row('gone').state), bed.row('gone').state);
    assert.ok(!bed.routes.routes.has(bed.route('gone')));
    assert.ok(bed.routes.routes.has(bed.route('kept')), 'the lost route is back');
    assert.ok(!bed.routes.routes.has(bed.route('ghost')), 'the stale route is gone');
    assert.equal(bed.row('busy').state, 'starting', 'a start in progress is not reconciled');
    assert.equal(report.checked, 2);
    await stop('busy');
  });

  it('twenty starts watched at once share one budget of health calls instead of polling 40 times a second each', async () => {
    const names = Array.from({ length: 20 }, (_, i) => `many${i}`);
    for (const name of names) await start(name);
    await new Promise((r) => setTimeout(r, 200));
    const before = bed.launcher.probes;
    await new Promise((r) => setTimeout(r, 1000));
    const perSecond = bed.launcher.probes - before;
    // 20 watches at one call each 25 ms would be 800; the budget is 200 a second.
    assert.ok(perSecond <= 300, `${perSecond} health calls in one second`);
    assert.ok(perSecond >= 100, `${perSecond} health calls in one second: the watches stalled`);
    for (const name of names) await stop(name);
  });

  it('starts whose proxies hold the health call until they have news are asked a few times a second, and ready is seen on the call that waited', async () => {
    bed.launcher.holds = true;
    const names = Array.from({ length: 20 }, (_, i) => `held${i}`);
    const rows = [];
    for (const name of names) rows.push(await start(name));
    await new Promise((r) => setTimeout(r, 200));
    const before = bed.launcher.probes;
    await new Promise((r) => setTimeout(r, 1000));
    const perSecond = bed.launcher.probes - before;
    // Each watch asks about twice a second (the proxy holds each call up to 500 ms).
    assert.ok(perSecond <= 60, `${perSecond} health calls in one second`);
    assert.ok(perSecond >= 20, `${perSecond} health calls in one second: the watches stalled`);
    const id = rows[0]!.id;
    await waitFor(() => bed.launcher.held.has(id), { what: 'a held health call' });
    const asked = bed.launcher.probesOf.get(id);
    bed.launcher.ready(id);
    await settledIn('held0', 'running');
    assert.equal(bed.launcher.probesOf.get(id), asked, 'the call that was waiting answered ready');
    for (const name of names) await stop(name);
  });

  it('reconcile with CHP down changes no route and no row, and says so', async () => {
    const row = await start('steady');
    bed.launcher.ready(row.id);
    await settledIn('steady', 'running');
    bed.routes.failNext = 1;
    const report = await reconcile(bed.deps, bed.manager);
    assert.equal(report.chpReachable, false);
    assert.equal(bed.row('steady').state, 'running');
    assert.ok(bed.routes.routes.has(bed.route('steady')));
  });
});
