import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { requireRootOrSkip } from '../helpers/index.js';
import { waitFor } from '../helpers/wait.js';
import { TEST_USERS } from '../system/harness.js';
import { isAlive, processesMentioning, processesOfServer } from '../system/proc-scan.js';
import {
  proxySocketOf,
  RECONCILE_INTERVAL_S,
  SystemStack,
  type StoredServer,
} from '../system/system-stack.js';
import { addReliabilityApps, killChp, raw, settled, startChpAgain } from './support.js';

const { alice, bob } = TEST_USERS;

/**
 * Scenario 5 (the CHP half; JupyterHub down is covered with the login tests in
 * test/e2e/): while configurable-http-proxy is down, starts fail fast with a message that
 * names it and write nothing; running servers keep serving on their proxy sockets; once CHP
 * is back, reconcile puts every route back.
 */
describe('reliability: configurable-http-proxy down (real sudo)', function () {
  this.timeout(60_000);
  const stack = new SystemStack();
  let keep: StoredServer;
  let stopMe: StoredServer;
  before(async function () {
    requireRootOrSkip(this);
    await stack.setUp();
    await addReliabilityApps(stack);
    keep = await stack.startServer(alice, 'keep', 'tiny');
    stopMe = await stack.startServer(bob, 'stopme', 'tiny');
    await killChp(stack);
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed') stack.reportFailure(this.currentTest.fullTitle());
  });
  after(async () => stack.tearDown());

  it('answers a start at once with 503 naming configurable-http-proxy, writing no row, no event and starting nothing', async () => {
    const events = stack.eventCount(alice);
    const proxies = processesMentioning(stack.installed!.root)
      .map((p) => p.pid)
      .sort();
    const r = await stack.api('POST', `/users/${alice}/servers/new`, { app: 'tiny' });
    assert.equal(r.status, 503, JSON.stringify(r.body));
    assert.equal(r.body.status, 503);
    assert.match(r.body.message, /configurable-http-proxy, which routes them, is not available/);
    // Failing fast means refusing before anything is recorded or spawned, so no readiness wait can follow.
    assert.equal(stack.row(alice, 'new'), undefined);
    assert.equal(stack.eventCount(alice), events);
    assert.deepEqual(
      processesMentioning(stack.installed!.root)
        .map((p) => p.pid)
        .sort(),
      proxies,
    );
  });

  it('reports itself degraded on the health endpoint', async () => {
    const res = await fetch(`${stack.apiUrl}/health`);
    assert.equal(res.status, 503);
    assert.deepEqual(await res.json(), {
      status: 'degraded',
      chp: 'unreachable',
      launcher: 'sudo',
    });
  });

  it('keeps running servers running and serving on their proxy socket, across reconcile passes', async () => {
    await sleep(RECONCILE_INTERVAL_S * 2000 + 500);
    const row = stack.row(alice, 'keep')!;
    assert.equal(row.state, 'running', row.reason ?? '');
    assert.deepEqual([row.proxy_pid, row.app_pid], [keep.proxy_pid, keep.app_pid]);
    const res = await raw(proxySocketOf(keep), `/apps/${alice}/keep/`, {
      headers: { authorization: `token ${stack.adminToken}` },
    });
    assert.equal(res.status, 200);
    assert.equal(res.body, 'tiny');
  });

  it('still stops a server: its processes end and the row is stopped', async () => {
    const r = await stack.api('DELETE', `/users/${bob}/servers/stopme`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.state, 'stopped');
    assert.deepEqual(processesOfServer(stopMe.id, bob), []);
    assert.ok(!isAlive(stopMe.proxy_pid));
  });

  it('puts the routes back within one reconcile interval once CHP returns, and nothing stale', async () => {
    await startChpAgain(stack);
    await waitFor(async () => (await stack.routes())[`/apps/${alice}/keep`], {
      timeout: RECONCILE_INTERVAL_S * 1000 + 3000,
      interval: 50,
      what: 'the route to come back',
    });
    const res = await stack.viaChp(`/apps/${alice}/keep/`, {
      authorization: `token ${stack.adminToken}`,
    });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'tiny');
    assert.equal((await stack.routes())[`/apps/${bob}/stopme`], undefined);
    await settled(stack);
  });

  it('starts servers again once CHP is back', async () => {
    const row = await stack.startServer(alice, 'new', 'tiny');
    assert.equal(row.state, 'running');
    await settled(stack);
  });
});
