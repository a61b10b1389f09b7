import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { Access } from '../../../../src/proxy/access/gate.js';
import { SessionChecker } from '../../../../src/proxy/access/session-check.js';
import { TokenChecker } from '../../../../src/proxy/access/token-check.js';

/** Nothing here asks the service: every session is fresh, so this address is never called. */
const UNUSED_SERVICE = 'http://127.0.0.1:9/services/hubapps/';
const browserRequest = (cookie: string) =>
  ({
    url: '/apps/alice/lab/x',
    method: 'GET',
    headers: { accept: 'application/json', cookie },
  }) as unknown as IncomingMessage;

describe("hubapps-proxy's browser sessions per user", () => {
  const secret = 's'.repeat(32);
  const access = () =>
    new Access(
      new TokenChecker({ serverId: 7, user: 'alice', secret, serviceUrl: UNUSED_SERVICE }),
      new SessionChecker({ serverId: 7, secret, serviceUrl: UNUSED_SERVICE }),
      {
        serverId: 7,
        prefix: '/apps/alice/lab/',
        secureCookie: false,
        authorizeUrl: 'http://hub.example.org/services/hubapps/authorize?user=alice&server=lab',
        revalidateMs: 60_000,
      },
    );
  const admitted = (a: Access, cookie: string): boolean => {
    const d = a.authorize(browserRequest(cookie), false);
    assert.ok(!(d instanceof Promise), 'a fresh session is decided without asking the service');
    return d.ok;
  };

  it("keeps alice's session while a visitor makes 1,000 sessions, evicting only the visitor's own oldest", () => {
    const a = access();
    const alice = a.sessionCookie('launcher-alice', 'alice').split(';')[0]!;
    const bob: string[] = [];
    for (let i = 0; i < 1000; i++)
      bob.push(a.sessionCookie(`launcher-bob-${i}`, 'bob').split(';')[0]!);
    assert.equal(admitted(a, alice), true, "alice's session was evicted by bob's");
    const kept = bob.filter((c) => admitted(a, c)).length;
    assert.equal(kept, 20, 'bob holds more sessions than the per-user cap');
    assert.equal(admitted(a, bob.at(-1)!), true, "bob's newest session works");
    assert.equal(admitted(a, bob[0]!), false, "bob's oldest session still works");
  });
});
