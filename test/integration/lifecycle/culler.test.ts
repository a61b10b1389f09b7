import assert from 'node:assert/strict';
import { cullReason } from '../../../src/lifecycle/culler.js';
import type { ServerRow } from '../../../src/store/servers.js';
import { startLocalStack, type LocalStack } from '../../helpers/stack.js';
import { waitFor } from '../../helpers/wait.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();
const row = (over: Partial<ServerRow> = {}) =>
  ({
    created_at: at(0),
    started_at: at(0),
    ready_at: at(1),
    last_activity: null,
    ...over,
  }) as ServerRow;
const off = { idle_timeout: 0, max_age: 0 };

describe('culler: which servers to stop', () => {
  it('keeps everything when no limit is set', () => {
    assert.equal(cullReason(row(), undefined, off, T0 + 1e9), null);
  });
  it('culls after the global idle timeout counted from the last activity', () => {
    const r = row({ last_activity: at(100) });
    assert.equal(cullReason(r, undefined, { ...off, idle_timeout: 60 }, T0 + 150_000), null);
    assert.match(
      cullReason(r, undefined, { ...off, idle_timeout: 60 }, T0 + 161_000)!,
      /idle for more than 60 s/,
    );
  });
  it('counts idle time from readiness when nobody has used the server yet', () => {
    assert.match(cullReason(row(), undefined, { ...off, idle_timeout: 10 }, T0 + 12_000)!, /idle/);
  });
  it("lets an app's own idle_timeout win over the global one, including 0 (never)", () => {
    const app = { idle_timeout: 0 } as never;
    assert.equal(cullReason(row(), app, { ...off, idle_timeout: 10 }, T0 + 1e9), null);
  });
  it('culls a busy server past max_age', () => {
    const r = row({ last_activity: at(999) });
    assert.match(cullReason(r, undefined, { ...off, max_age: 500 }, T0 + 1000_000)!, /max_age 500/);
  });
});

describe('culler: an idle server is stopped by reconcile, a used one is kept', function () {
  this.timeout(30000);
  let stack: LocalStack;
  const HELLO = `require('http').createServer((q, s) => s.end('ok')).listen(+process.argv[1], '127.0.0.1')`;
  before(async () => {
    stack = await startLocalStack({
      apps: {
        quick: {
          title: 'Quick',
          command: [process.execPath, '-e', HELLO, '{port}'],
          idle_timeout: 2,
        },
      },
      config: { reconcile_interval: 0.25 },
    });
  });
  after(async () => stack?.stop());

  it('stops the idle server with the reason, keeps the used one, and counts the cull', async () => {
    await stack.api('POST', '/users/alice/servers/idle', { app: 'quick' });
    await stack.api('POST', '/users/alice/servers/busy', { app: 'quick' });
    const busyUse = setInterval(
      () =>
        void stack
          .viaChp('/apps/alice/busy/', { authorization: `token ${stack.token}` })
          .catch(() => undefined),
      300,
    );
    try {
      const culled = await waitFor(
        async () => {
          const r = await stack.api('GET', '/users/alice/servers/idle');
          return r.body.state === 'stopped' ? r.body : undefined;
        },
        { timeout: 15000, what: 'the idle server to be culled' },
      );
      assert.match(culled.reason, /culled: idle for more than 2 s/);
      assert.equal((await stack.api('GET', '/users/alice/servers/busy')).body.state, 'running');
    } finally {
      clearInterval(busyUse);
    }
    const metrics = await fetch(`${stack.service.urls.serviceOrigin}/services/hubapps/metrics`, {
      headers: { authorization: `Bearer ${stack.token}` },
    });
    assert.match(await metrics.text(), /hubapps_culls_total\{reason="idle"\} [1-9]/);
  });
});
