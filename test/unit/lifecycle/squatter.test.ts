import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { reconcile } from '../../../src/lifecycle/reconcile.js';
import { startLocalStack, type LocalStack } from '../../helpers/stack.js';
import { waitFor } from '../../helpers/wait.js';

const node = process.execPath;
const HELLO = `require('http').createServer((q, s) => s.end('hello')).listen(+process.argv[1], '127.0.0.1')`;

describe('a program squatting on a server\'s recorded port', function () {
  this.timeout(60000);
  let stack: LocalStack;
  let squatter: Server;
  const heard: IncomingMessage[] = [];
  before(async () => {
    stack = await startLocalStack({ apps: { hello: { title: 'Hello', command: [node, '-e', HELLO, '{port}'], ready: { timeout: 10 } } }, config: { reconcile_interval: 3600 } });
    squatter = createServer((req, res) => {
      heard.push(req);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"serverId":1,"state":"ready"}');
    });
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
  });
  after(async () => {
    await new Promise<void>((resolve) => squatter?.close(() => resolve()));
    await stack?.stop();
  });

  it('gets neither the secret nor a route when CHP lost the route and reconcile puts routes back', async () => {
    assert.equal((await stack.api('POST', '/users/alice/servers/one', { app: 'hello' })).status, 202);
    await waitFor(async () => ((await stack.api('GET', '/users/alice/servers/one')).body.state === 'running' ? true : undefined), { timeout: 15000, what: 'running' });
    const { deps, manager } = stack.service;
    const row = deps.store.get('alice', 'one')!;
    const realPort = row.port!;
    // The record now points at the squatter's port (as if the proxy had gone and someone took its port), and CHP restarted empty.
    deps.store.update(row.id, { port: (squatter.address() as AddressInfo).port });
    await deps.routes.remove('/apps/alice/one');
    await reconcile(deps, manager);
    assert.equal((await deps.routes.list()).has('/apps/alice/one'), false, 'reconcile routed browsers to the squatter');
    assert.ok(heard.length > 0, 'the squatter was never asked: the test did not reach it');
    for (const req of heard) assert.ok(!JSON.stringify(req.headers).includes(row.secret!), 'the secret reached the squatter');
    assert.equal(deps.store.get('alice', 'one')!.state, 'running', 'a live proxy is left for the next pass, not marked gone');
    // Back on the real proxy's port, the next pass proves it and routes it again.
    deps.store.update(row.id, { port: realPort });
    await reconcile(deps, manager);
    assert.equal((await deps.routes.list()).get('/apps/alice/one')?.target, `http://127.0.0.1:${realPort}`);
  });
});
