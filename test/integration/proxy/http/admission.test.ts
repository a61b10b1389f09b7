import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { plainRequest, upgradeRequest, WireConnection } from '../../../helpers/wire.js';
import { startEchoProxy, tearDown, type ProxyBed } from '../bed.js';
import type { RunningProxy } from '../../../unit/proxy/harness.js';

const TOKEN = { authorization: 'token alice-token' };
/** Browsers send Origin with every upgrade; the hub's origin is one the proxy accepts for WebSockets. */
const HUB = { origin: 'https://hub.example.org' };

/** One request on a fresh connection: the status and the whole answer. */
async function ask(port: number, request: string): Promise<{ status: number; text: string }> {
  const wire = await WireConnection.open(port);
  try {
    wire.write(request);
    await wire.answers(1, 8000);
    return { status: wire.statuses()[0]!, text: wire.text };
  } finally {
    wire.destroy();
  }
}

describe('hubapps-proxy: plain requests and WebSocket upgrades pass the same checks, in the same order', () => {
  let bed: ProxyBed & { proxy: RunningProxy };
  let proxy: RunningProxy;
  const base = '/apps/alice/echo/';

  before(async () => {
    bed = await startEchoProxy({ websocket: true });
    proxy = bed.proxy;
  });
  after(() => tearDown(bed));

  /** Each case's headers for the plain request and for the upgrade, which carries the Origin a browser sends. */
  const cases: Array<{
    what: string;
    path: (mark: string) => string;
    plain: Record<string, string>;
    upgrade: Record<string, string>;
    status: number;
    says: RegExp;
  }> = [
    {
      what: "a path with a '..' segment",
      path: (m) => `${base}a/%2e%2e/${m}`,
      plain: TOKEN,
      upgrade: { ...HUB, ...TOKEN },
      status: 400,
      says: /'\.\.' segments are refused/,
    },
    {
      what: 'a path that is not valid percent-encoding',
      path: (m) => `${base}${m}/%zz`,
      plain: TOKEN,
      upgrade: { ...HUB, ...TOKEN },
      status: 400,
      says: /not valid percent-encoding/,
    },
    {
      what: "a request from another site's page",
      path: (m) => `${base}${m}`,
      plain: { ...TOKEN, origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
      upgrade: { ...TOKEN, origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
      status: 403,
      says: /outside this server|origin may not/,
    },
    {
      what: 'a request without credentials',
      path: (m) => `${base}${m}`,
      plain: {},
      upgrade: HUB,
      status: 401,
      says: /authentication required/,
    },
  ];

  for (const c of cases) {
    it(`refuses ${c.what} alike as a plain request and as an upgrade, with the proxy's own answer`, async () => {
      const mark = `m-${randomBytes(6).toString('hex')}`;
      const plain = await ask(proxy.spec.port, plainRequest(c.path(mark), c.plain));
      const upgrade = await ask(proxy.spec.port, upgradeRequest(c.path(mark), c.upgrade));
      assert.deepEqual(
        [plain.status, upgrade.status],
        [c.status, c.status],
        `plain:\n${plain.text}\nupgrade:\n${upgrade.text}`,
      );
      assert.match(plain.text, c.says);
      assert.match(upgrade.text, c.says);
    });
  }

  it("lets the owner's plain request and upgrade through (the allowed case)", async () => {
    assert.equal((await ask(proxy.spec.port, plainRequest(`${base}ready`, TOKEN))).status, 200);
    assert.equal(
      (await ask(proxy.spec.port, upgradeRequest(`${base}ws`, { ...HUB, ...TOKEN }))).status,
      101,
    );
  });
});
