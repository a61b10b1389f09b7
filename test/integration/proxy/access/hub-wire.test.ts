import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { plainRequest, upgradeRequest, WireConnection } from '../../../helpers/wire.js';
import {
  HubBrowser,
  PREFIX,
  PUBLIC_ORIGIN,
  startHubBed,
  tearDownHubBed,
  type HubBed,
} from '../hub-bed.js';
import { accessScopesFor } from '../fake-hub.js';

/** A path segment no request has used before: finding it in the app's output proves a request got there. */
function marker(): string {
  return `m-${randomBytes(6).toString('hex')}`;
}

describe("hubapps-proxy of a hub server keeps the gate's rules with the hub's prefix as its own", () => {
  let bed: HubBed;
  let owner: string;
  let cookie: string;

  before(async () => {
    bed = await startHubBed({ app: 'refusing' });
    bed.hub.setUser('alice', accessScopesFor('alice/echo'));
    owner = `token ${bed.hub.token('alice', accessScopesFor('alice/echo'))}`;
    const browser = new HubBrowser(bed);
    assert.equal((await browser.go(PREFIX)).status, 200);
    cookie = browser.cookieFor(PREFIX);
  });
  after(() => tearDownHubBed(bed));

  it('never forwards a request that follows, on one keep-alive connection, a refused one or a let-in one', async () => {
    const wire = await WireConnection.open(bed.proxy.spec.port);
    const [m1, m2, m3] = [marker(), marker(), marker()];
    try {
      wire.write(
        plainRequest(`${PREFIX}files/${m1}`, { authorization: 'token not-a-hub-token' }) +
          plainRequest(`${PREFIX}files/${m2}`),
      );
      await wire.answers(2);
      wire.write(plainRequest(`${PREFIX}files/ok`, { authorization: owner }));
      await wire.answers(3);
      wire.write(plainRequest(`${PREFIX}files/${m3}`));
      await wire.answers(4);
      assert.deepEqual(wire.statuses(), [403, 401, 200, 401]);
      await sleep(100);
      for (const m of [m1, m2, m3]) assert.doesNotMatch(bed.proxy.output(), new RegExp(m));
    } finally {
      wire.destroy();
    }
  });

  it('closes the connection after an upgrade it refuses, and the next request on it (with a credential) is not forwarded', async () => {
    const wire = await WireConnection.open(bed.proxy.spec.port);
    const mark = marker();
    try {
      wire.write(upgradeRequest(`${PREFIX}socket`, { origin: PUBLIC_ORIGIN }));
      await wire.answers(1);
      wire.write(plainRequest(`${PREFIX}files/${mark}`, { cookie }));
      assert.ok(await wire.closesWithin(3000), wire.text);
      assert.deepEqual(wire.statuses(), [401]);
      assert.doesNotMatch(bed.proxy.output(), new RegExp(mark));
    } finally {
      wire.destroy();
    }
  });

  it("closes after the app's refusal of a signed-in upgrade, so a request behind it never reaches the app", async () => {
    const wire = await WireConnection.open(bed.proxy.spec.port);
    const mark = marker();
    try {
      wire.write(
        upgradeRequest(`${PREFIX}api/kernels/gone/refuse-404`, { origin: PUBLIC_ORIGIN, cookie }),
      );
      await wire.answers(1);
      wire.write(plainRequest(`${PREFIX}files/${mark}`));
      assert.ok(await wire.closesWithin(3000), wire.text);
      assert.deepEqual(wire.statuses(), [404]);
      await sleep(100);
      assert.doesNotMatch(bed.proxy.output(), new RegExp(mark));
    } finally {
      wire.destroy();
    }
  });

  it('refuses a WebSocket from a foreign origin, even with the signed-in cookie', async () => {
    const wire = await WireConnection.open(bed.proxy.spec.port);
    try {
      wire.write(upgradeRequest(`${PREFIX}socket`, { origin: 'https://evil.example', cookie }));
      await wire.answers(1);
      assert.deepEqual(wire.statuses(), [403]);
    } finally {
      wire.destroy();
    }
  });

  it("refuses a credentialed fetch from another server's page on the hub's origin (request source below the prefix)", async () => {
    const answer = await bed.proxy.get(`${PREFIX}files/secret`, {
      cookie,
      'sec-fetch-site': 'same-origin',
      'sec-fetch-mode': 'cors',
      'sec-fetch-dest': 'empty',
      referer: `${PUBLIC_ORIGIN}/user/bob/lab/tree`,
    });
    assert.equal(answer.status, 403);
    const own = await bed.proxy.get(`${PREFIX}files/mine`, {
      cookie,
      'sec-fetch-site': 'same-origin',
      'sec-fetch-mode': 'cors',
      'sec-fetch-dest': 'empty',
      referer: `${PUBLIC_ORIGIN}${PREFIX}tree`,
    });
    assert.equal(own.status, 200);
    assert.match(String(own.headers['content-security-policy']), /frame-ancestors 'self'/);
  });

  it("refuses the sign-in callback inside another page's frame", async () => {
    const answer = await bed.proxy.get(`${PREFIX}oauth_callback?code=abcdefgh12345678&state=x`, {
      'sec-fetch-site': 'same-origin',
      'sec-fetch-mode': 'navigate',
      'sec-fetch-dest': 'iframe',
      referer: `${PUBLIC_ORIGIN}/user/bob/lab/tree`,
    });
    assert.equal(answer.status, 403);
  });
});
