import assert from 'node:assert/strict';
import { startLocalStack, type LocalStack } from '../../helpers/stack.js';
import { waitFor } from '../../helpers/wait.js';

const HELLO = `require('http').createServer((q, s) => s.end('ok')).listen(+process.argv[1], '127.0.0.1')`;

describe('api: limits, audit trail and metrics', function () {
  this.timeout(30000);
  let stack: LocalStack;
  before(async () => {
    stack = await startLocalStack({
      apps: {
        hello: { title: 'Hello', command: [process.execPath, '-e', HELLO, '{port}'] },
        rare: { title: 'Rare', command: [process.execPath, '-e', HELLO, '{port}'], max_servers: 1 },
      },
      config: { limits: { servers_per_user: 2, servers_total: 3 } },
    });
  });
  after(async () => stack?.stop());

  it('refuses a start past the per-user limit with 429, naming the limit, and writes nothing', async () => {
    assert.equal((await stack.api('POST', '/users/alice/servers/a', { app: 'hello' })).status, 202);
    assert.equal((await stack.api('POST', '/users/alice/servers/b', { app: 'hello' })).status, 202);
    const r = await stack.api('POST', '/users/alice/servers/c', { app: 'hello' });
    assert.equal(r.status, 429);
    assert.match(r.body.message, /limits\.servers_per_user/);
    assert.equal(stack.service.deps.store.get('alice', 'c'), undefined);
  });

  it('refuses a second instance of an app with max_servers 1', async () => {
    assert.equal((await stack.api('POST', '/users/bob/servers/r1', { app: 'rare' })).status, 202);
    const r = await stack.api('POST', '/users/bob/servers/r2', { app: 'rare' });
    assert.equal(r.status, 429);
    assert.match(r.body.message, /max_servers/);
  });

  it('refuses a start past the host-wide limit', async () => {
    const r = await stack.api('POST', '/users/carol/servers/x', { app: 'hello' });
    assert.equal(r.status, 429);
    assert.match(r.body.message, /limits\.servers_total/);
  });

  it('records who started and stopped what in the audit trail, readable by admins', async () => {
    await waitFor(
      async () => (await stack.api('GET', '/users/alice/servers/a')).body.state === 'running',
      { timeout: 10000 },
    );
    await stack.api('DELETE', '/users/alice/servers/a');
    const r = await stack.api('GET', '/events?user=alice&server=a&kind=state');
    assert.equal(r.status, 200);
    const states = r.body.events.map(
      (e: { state: string; actor: string | null }) => `${e.state}:${e.actor ?? ''}`,
    );
    assert.deepEqual(states.slice(0, 2), ['stopped:', 'stopping:admin']);
    assert.ok(states.includes('pending:admin'));
  });

  it('serves Prometheus metrics to admins only, with servers by state and spawn durations', async () => {
    const url = `${stack.service.urls.serviceOrigin}/services/hubapps/metrics`;
    assert.equal((await fetch(url)).status, 401);
    const text = await (
      await fetch(url, { headers: { authorization: `Bearer ${stack.token}` } })
    ).text();
    const sample = (name: string) => text.split('\n').filter((l) => l.startsWith(name));
    assert.ok(sample('hubapps_servers{state="stopped",app="hello"} 1').length === 1, text);
    assert.ok(sample('hubapps_spawn_duration_seconds_count{app="hello"}')[0]?.match(/ [1-9]/));
    assert.ok(sample('hubapps_reconcile_duration_seconds_count').length === 1);
    assert.ok(sample('hubapps_process_resident_memory_bytes').length === 1);
  });
});
