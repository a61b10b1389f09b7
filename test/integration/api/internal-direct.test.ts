import assert from 'node:assert/strict';
import { startLocalStack, type LocalStack } from '../../helpers/stack.js';
import { waitFor } from '../../helpers/wait.js';

const HELLO = `require('http').createServer((q, s) => s.end('hello ' + q.url)).listen(+process.argv[1], '127.0.0.1')`;
const INTERNAL = ['proxy-auth', 'session-check', 'redeem-grant', 'announce'];

describe("api/internal/*: the proxies' endpoints answer direct calls only, never through CHP (real CHP)", function () {
  this.timeout(30000);
  let stack: LocalStack;
  before(async () => {
    stack = await startLocalStack({
      apps: { hello: { title: 'Hello', command: [process.execPath, '-e', HELLO, '{port}'] } },
    });
    // The service's prefix routed in CHP, as JupyterHub (or register_service_route) does.
    const res = await fetch(`${stack.chp.apiUrl}/api/routes/services/hubapps`, {
      method: 'POST',
      headers: { authorization: `token ${stack.chpToken}` },
      body: JSON.stringify({ target: stack.service.urls.serviceOrigin }),
    });
    assert.equal(res.status, 201);
  });
  after(async () => stack?.stop());

  const post = (base: string, name: string, headers: Record<string, string> = {}) =>
    fetch(`${base}/services/hubapps/api/internal/${name}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer guess', ...headers },
      body: '{"serverId":1}',
    });

  it('answers through CHP as if the routes did not exist, while the rest of the API is there', async () => {
    for (const name of INTERNAL) {
      const res = await post(stack.chp.proxyUrl, name);
      const body = (await res.json()) as { code: string; message: string };
      assert.deepEqual([res.status, body.code], [404, 'not_found'], name);
      assert.match(body.message, /^no such endpoint: POST /);
    }
    assert.equal(
      (await fetch(`${stack.chp.proxyUrl}/services/hubapps/api/health`)).status,
      200,
      'the service is reachable through CHP',
    );
  });

  it('checks a direct call as before, and refuses one that carries any forwarding header', async () => {
    const direct = stack.service.urls.serviceOrigin;
    for (const name of INTERNAL) assert.notEqual((await post(direct, name)).status, 404, name);
    for (const header of [
      'x-forwarded-for',
      'x-forwarded-host',
      'x-forwarded-proto',
      'forwarded',
    ]) {
      assert.equal(
        (await post(direct, 'proxy-auth', { [header]: 'for=192.0.2.1' })).status,
        404,
        header,
      );
    }
  });

  it("lets a running server's proxy check a token through its direct call while its route is in CHP", async () => {
    assert.equal((await stack.api('POST', '/users/alice/servers/h', { app: 'hello' })).status, 202);
    await waitFor(
      async () => (await stack.api('GET', '/users/alice/servers/h')).body.state === 'running',
      { timeout: 15000, what: 'alice/h to run' },
    );
    const res = await stack.viaChp('/apps/alice/h/x', { authorization: `token ${stack.token}` });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'hello /x');
  });
});
