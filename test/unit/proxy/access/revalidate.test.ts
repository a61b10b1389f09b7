import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { Access, type Decision } from '../../../../src/proxy/access/gate.js';
import { SessionChecker } from '../../../../src/proxy/access/session-check.js';
import { TokenChecker } from '../../../../src/proxy/access/token-check.js';
import { startFakeService, type FakeService } from '../harness.js';

/** The request as the listener hands it over: only url, method and headers are read. */
const browserRequest = (cookie: string) =>
  ({
    url: '/apps/alice/lab/x',
    method: 'GET',
    headers: { accept: 'text/html', cookie },
  }) as unknown as IncomingMessage;

describe('hubapps-proxy re-validates browser sessions with the service', () => {
  let service: FakeService;
  const secret = 's'.repeat(32);
  const access = (revalidateMs: number) =>
    new Access(
      new TokenChecker({ serverId: 7, user: 'alice', secret, serviceUrl: service.url }),
      new SessionChecker({ serverId: 7, secret, serviceUrl: service.url }),
      {
        serverId: 7,
        prefix: '/apps/alice/lab/',
        secureCookie: false,
        authorizeUrl: 'http://hub.example.org/services/hubapps/authorize?user=alice&server=lab',
        revalidateMs,
      },
    );
  const decide = async (a: Access, cookie: string): Promise<Decision> =>
    a.authorize(browserRequest(cookie), false);

  before(async () => (service = await startFakeService()));
  after(() => service.close());

  it('lets a fresh session in without asking, and asks the service once it is older than the re-validation time', async () => {
    const fresh = access(60_000);
    const cookie = fresh.sessionCookie('launcher-1', 'alice').split(';')[0]!;
    const before = service.sessionChecks.length;
    assert.equal((await decide(fresh, cookie)).ok, true);
    assert.equal(service.sessionChecks.length, before, 'a fresh session was checked');

    const eager = access(0);
    const eagerCookie = eager.sessionCookie('launcher-2', 'alice').split(';')[0]!;
    assert.equal((await decide(eager, eagerCookie)).ok, true);
    assert.deepEqual(service.sessionChecks.at(-1), { serverId: 7, session: 'launcher-2' });
  });

  it('ends the proxy session once the service says the launcher session ended: the browser goes back through authorize', async () => {
    const a = access(0);
    const cookie = a.sessionCookie('launcher-3', 'alice').split(';')[0]!;
    assert.equal((await decide(a, cookie)).ok, true);
    service.ended.add('launcher-3');
    const ended = await decide(a, cookie);
    assert.equal(ended.ok, false);
    assert.equal(!ended.ok && ended.status, 302);
    service.ended.delete('launcher-3');
    assert.equal((await decide(a, cookie)).ok, false, 'an ended proxy session came back');
  });
});
