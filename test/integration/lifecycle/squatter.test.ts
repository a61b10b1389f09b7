import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { join } from 'node:path';
import { reconcile } from '../../../src/lifecycle/reconcile.js';
import { startLocalStack, type LocalStack } from '../../helpers/stack.js';
import { tmpDir, type TmpDir } from '../../helpers/tmp.js';
import { waitFor } from '../../helpers/wait.js';

const node = process.execPath;
const HELLO = `require('http').createServer((q, s) => s.end('hello')).listen(+process.argv[1], '127.0.0.1')`;

describe("a program squatting on a server's recorded proxy address", function () {
  this.timeout(60000);
  let stack: LocalStack;
  let squatter: Server;
  let dir: TmpDir;
  const heard: IncomingMessage[] = [];
  before(async () => {
    stack = await startLocalStack({
      apps: {
        hello: { title: 'Hello', command: [node, '-e', HELLO, '{port}'], ready: { timeout: 10 } },
      },
      config: { reconcile_interval: 3600 },
    });
    squatter = createServer((req, res) => {
      heard.push(req);
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end('{"serverId":1,"state":"ready"}');
    });
    dir = await tmpDir('squatter');
    await new Promise<void>((resolve) => squatter.listen(join(dir.path, 'squat.sock'), resolve));
  });
  after(async () => {
    await new Promise<void>((resolve) => squatter?.close(() => resolve()));
    await stack?.stop();
    await dir?.remove();
  });

  it('gets neither the secret nor a route when CHP lost the route and reconcile puts routes back', async () => {
    assert.equal(
      (await stack.api('POST', '/users/alice/servers/one', { app: 'hello' })).status,
      202,
    );
    await waitFor(
      async () =>
        (await stack.api('GET', '/users/alice/servers/one')).body.state === 'running'
          ? true
          : undefined,
      { timeout: 15000, what: 'running' },
    );
    const { deps, manager } = stack.service;
    const row = deps.store.get('alice', 'one')!;
    const real = row.launcher_state!;
    const realTarget = `http+unix://${encodeURIComponent((JSON.parse(real) as { socket: string }).socket)}`;
    // The record now points at the squatter's socket (as if someone had bound the proxy's address), and CHP restarted empty.
    deps.store.update(row.id, {
      launcher_state: JSON.stringify({ ...JSON.parse(real), socket: join(dir.path, 'squat.sock') }),
    });
    await deps.routes.remove('/apps/alice/one');
    await reconcile(deps, manager);
    assert.equal(
      (await deps.routes.list()).has('/apps/alice/one'),
      false,
      'reconcile routed browsers to the squatter',
    );
    assert.ok(heard.length > 0, 'the squatter was never asked: the test did not reach it');
    for (const req of heard)
      assert.ok(
        !JSON.stringify(req.headers).includes(row.secret!),
        'the secret reached the squatter',
      );
    assert.equal(
      deps.store.get('alice', 'one')!.state,
      'running',
      'a live proxy is left for the next pass, not marked gone',
    );
    // Back on the real proxy's socket, the next pass proves it and routes it again.
    deps.store.update(row.id, { launcher_state: real });
    await reconcile(deps, manager);
    assert.equal((await deps.routes.list()).get('/apps/alice/one')?.target, realTarget);
  });
});
