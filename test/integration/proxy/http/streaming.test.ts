import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { Catalog, FakeService, RunningProxy } from '../../../unit/proxy/harness.js';
import { startEchoProxy, tearDown } from '../bed.js';
import { waitFor } from '../../../helpers/index.js';

const AUTH = { authorization: 'token alice-token' };

describe('hubapps-proxy streaming and broken answers', () => {
  let catalog: Catalog;
  let service: FakeService;
  let proxy: RunningProxy;
  const base = '/apps/alice/echo/';

  before(async () => ({ catalog, service, proxy } = await startEchoProxy()));
  after(() => tearDown({ catalog, service, proxy }));

  it('closes the request to the app when the client goes away in the middle of an endless answer', async () => {
    const received = await new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: proxy.spec.port,
          path: `${base}stream`,
          headers: AUTH,
          agent: false,
        },
        (res) => {
          let n = 0;
          res.on('data', (chunk: Buffer) => {
            n += chunk.length;
            if (n >= 64 * 1024) {
              req.destroy();
              resolve(n);
            }
          });
        },
      );
      req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
      req.end();
    });
    assert.ok(received >= 64 * 1024);
    await waitFor(async () => (await proxy.get(`${base}streams`, AUTH)).body === '0', {
      what: "the app's stream to be closed",
    });
  });

  it('answers 502 for a response the app garbled, and keeps serving the next request', async () => {
    const bad = await proxy.get(`${base}malformed`, { ...AUTH, accept: 'text/html' });
    assert.equal(bad.status, 502);
    assert.doesNotMatch(bad.body, /at .*\.js:\d+/, 'no stack trace');
    assert.equal((await proxy.get(`${base}after`, AUTH)).status, 200);
  });
});
