import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HubClient } from '../../../src/auth/hub-client.js';
import { HubNames } from '../../../src/auth/hub-names.js';

describe("activity going to JupyterHub (a stand-in for the hub's POST /users/NAME/activity)", () => {
  let hub: Server;
  let url = '';
  const seen: Array<{ path: string; body: unknown }> = [];
  before(async () => {
    hub = createServer((req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString()));
      req.on('end', () => {
        seen.push({ path: req.url ?? '', body: JSON.parse(text) });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => hub.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(hub.address() as AddressInfo).port}/hub/api`;
  });
  after(() => new Promise<void>((resolve) => hub.close(() => resolve())));
  beforeEach(() => (seen.length = 0));

  const client = () =>
    new HubClient(
      url,
      'service-token',
      30,
      'hubapps',
      undefined,
      new HubNames({ usernames: 'mapped', username_map: { 'alice@example.org': 'alice' } }),
    );
  const AT = '2026-12-07T10:00:00.000Z';

  it("moves a hub-started server's own last_activity, under the hub's names", async () => {
    await client().postActivity('alice', AT, { user: 'alice@example.org', server: '' });
    assert.deepEqual(seen, [
      {
        path: '/hub/api/users/alice%40example.org/activity',
        body: { last_activity: AT, servers: { '': { last_activity: AT } } },
      },
    ]);
  });

  it("reports another server as the user's activity alone, and nothing for an account no hub user maps to", async () => {
    await client().postActivity('alice', AT);
    await client().postActivity('bob', AT);
    assert.deepEqual(seen, [
      { path: '/hub/api/users/alice%40example.org/activity', body: { last_activity: AT } },
    ]);
  });
});
