import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { HubappsError } from '../../../src/errors.js';
import { freePort, pickPort, portFree } from '../../../src/net/ports.js';

const listen = (port: number) =>
  new Promise<Server>((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen({ host: '127.0.0.1', port, exclusive: true }, () => resolve(s));
  });

describe('loopback ports', () => {
  it('freePort hands out a port that can be bound right after', async () => {
    const port = await freePort();
    assert.ok(port > 0);
    const s = await listen(port);
    s.close();
  });

  it('portFree tells a held port from a free one', async () => {
    const held = await listen(0);
    const port = (held.address() as { port: number }).port;
    try {
      assert.equal(await portFree(port), false);
    } finally {
      await new Promise((r) => held.close(r));
    }
    assert.equal(await portFree(port), true);
  });

  it('pickPort takes a range port no active server holds, and says what to do when none is left', async () => {
    const a = await freePort();
    assert.equal(await pickPort({ min: a, max: a }, new Set()), a);
    await assert.rejects(
      pickPort({ min: a, max: a }, new Set([a])),
      (err: unknown) =>
        err instanceof HubappsError &&
        err.code === 'no_free_port' &&
        /widen it or stop some servers/.test(err.message),
    );
  });
});
