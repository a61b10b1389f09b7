import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { Access, type Decision } from '../../../../src/proxy/access/gate.js';
import { SessionChecker } from '../../../../src/proxy/access/session-check.js';
import { TokenChecker } from '../../../../src/proxy/access/token-check.js';

/** Nothing here asks the service: requests without credentials are decided at once. */
const UNUSED_SERVICE = 'http://127.0.0.1:9/services/hubapps/';
const AUTHORIZE = 'https://hub.example.org/services/hubapps/authorize?user=alice&server=lab';
const FRAMED = {
  accept: 'text/html',
  'sec-fetch-site': 'cross-site',
  'sec-fetch-mode': 'navigate',
  'sec-fetch-dest': 'iframe',
};
const TOP_LEVEL = { ...FRAMED, 'sec-fetch-dest': 'document' };
const request = (headers: Record<string, string>) =>
  ({ url: '/apps/alice/lab/tree', method: 'GET', headers }) as unknown as IncomingMessage;

function access(embedding: boolean, hostCookie = false): Access {
  const secret = 's'.repeat(32);
  return new Access(
    new TokenChecker({ serverId: 7, user: 'alice', secret, serviceUrl: UNUSED_SERVICE }),
    new SessionChecker({ serverId: 7, secret, serviceUrl: UNUSED_SERVICE }),
    {
      serverId: 7,
      prefix: hostCookie ? '/' : '/apps/alice/lab/',
      secureCookie: true,
      hostCookie,
      authorizeUrl: AUTHORIZE,
      embedding,
    },
  );
}

function decide(a: Access, headers: Record<string, string>): Decision {
  const d = a.authorize(request(headers), false);
  assert.ok(!(d instanceof Promise));
  return d;
}

describe("hubapps-proxy's access inside another site's frame (app_embedding)", () => {
  it('answers a framed page load without a cookie with the sign-in page and a partitioned grant cookie', () => {
    const d = decide(access(true), FRAMED);
    assert.ok(!d.ok && 'signIn' in d, JSON.stringify(d));
    assert.match(
      d.signIn.authorizeUrl,
      /^https:\/\/hub\.example\.org\/services\/hubapps\/authorize\?user=alice&server=lab&binding=[\w-]{43}&next=%2Fapps%2Falice%2Flab%2Ftree&embed=1$/,
    );
    assert.match(
      d.signIn.setCookie,
      /^hubapps-grant-7=[\w-]{43}; Path=\/apps\/alice\/lab\/_hubapps\/grant; HttpOnly; Secure; SameSite=None; Partitioned; Max-Age=600$/,
    );
  });

  it('still sends top-level page loads through authorize with an unpartitioned Lax grant cookie', () => {
    const d = decide(access(true), TOP_LEVEL);
    assert.ok(!d.ok && d.status === 302, JSON.stringify(d));
    assert.doesNotMatch(d.location, /embed=1/);
    assert.match(String(d.setCookie), /SameSite=Lax/);
    assert.doesNotMatch(String(d.setCookie), /Partitioned|SameSite=None/);
  });

  it('gives no sign-in page when no site may embed the server: the framed load is sent to authorize, which refuses frames', () => {
    const d = decide(access(false), FRAMED);
    assert.ok(!d.ok && d.status === 302, JSON.stringify(d));
  });

  it('partitions the session cookie of a grant redeemed in a frame, and only then', () => {
    const a = access(true);
    assert.ok(a.framed(request(FRAMED)));
    assert.ok(!a.framed(request(TOP_LEVEL)));
    assert.ok(!access(false).framed(request(FRAMED)));
    assert.match(
      a.sessionCookie('launcher', 'alice', true),
      /^hubapps-proxy-7=[\w-]+; Path=\/apps\/alice\/lab\/; HttpOnly; Secure; SameSite=None; Partitioned$/,
    );
    assert.match(a.sessionCookie('launcher', 'alice'), /SameSite=Lax; Secure$/);
    assert.match(
      a.takeGrantCookie(request(FRAMED), true).clear,
      /^hubapps-grant-7=; Path=\/apps\/alice\/lab\/_hubapps\/grant; HttpOnly; Secure; SameSite=None; Partitioned; Max-Age=0$/,
    );
  });

  it('keeps the __Host- form on per-server origins', () => {
    assert.match(
      access(true, true).sessionCookie('launcher', 'alice', true),
      /^__Host-hubapps-7=[\w-]+; Path=\/; HttpOnly; Secure; SameSite=None; Partitioned$/,
    );
  });

  it('lets the partitioned cookie in like any session cookie', () => {
    const a = access(true);
    const cookie = a.sessionCookie('launcher', 'alice', true).split(';')[0]!;
    assert.equal(decide(a, { ...FRAMED, cookie }).ok, true);
  });
});
