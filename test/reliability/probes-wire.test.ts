import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { requireRootOrSkip } from '../helpers/index.js';
import { plainRequest, upgradeRequest, WireConnection } from '../helpers/wire.js';
import { TEST_USERS } from '../system/harness.js';
import { SystemStack } from '../system/system-stack.js';
import { appSaw, appSees, marker, viaChpRaw, wsHandshake } from './probe-kit.js';
import { addReliabilityApps, tokenFor } from './support.js';

const { alice, bob } = TEST_USERS;
const ROUNDS = 12;

/**
 * The wire (issue 32): a connection the proxy has handled never carries an unchecked
 * request. alice's app refuses WebSocket upgrades with 404 on a keep-alive connection, as
 * Jupyter does for a kernel that is gone; CHP pools its connections to her proxy and hands
 * them to whoever comes next. After her refused upgrades, bob and an anonymous client must
 * still be refused every time, and her app's log proves none of their requests reached it.
 */
describe("reliability: after the owner's refused WebSocket upgrade, no connection carries another user's request into the app (real sudo, real CHP)", function () {
  this.timeout(120_000);
  const stack = new SystemStack();
  let aliceToken: string;
  let bobToken: string;
  let origin: string;
  const path = `/apps/${alice}/nb/`;
  before(async function () {
    requireRootOrSkip(this);
    await stack.setUp();
    await addReliabilityApps(stack);
    await stack.startServer(alice, 'nb', 'kernels');
    aliceToken = await tokenFor(stack, alice);
    bobToken = await tokenFor(stack, bob);
    origin = new URL(stack.chp!.proxyUrl).origin;
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed') stack.reportFailure(this.currentTest.fullTitle());
  });
  after(() => stack.tearDown());

  it(`refuses bob and an anonymous client ${ROUNDS} times out of ${ROUNDS} after alice's upgrades to a vanished kernel got 404`, async () => {
    const outcomes: string[] = [];
    const marks: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const refused = await wsHandshake(
        stack,
        `${path}api/kernels/gone-${round}/channels`,
        { authorization: `token ${aliceToken}` },
        origin,
      );
      assert.equal(refused.opened, false);
      assert.equal(refused.status, 404);
      const mark = marker();
      marks.push(mark);
      const asBob = await viaChpRaw(stack, `${path}files/${mark}-bob`, {
        authorization: `token ${bobToken}`,
      });
      const anonymous = await viaChpRaw(stack, `${path}files/${mark}-anon`);
      outcomes.push(`${asBob.status}/${anonymous.status}`);
      assert.ok(!asBob.body.includes('kernels app of'), asBob.body);
      assert.ok(!anonymous.body.includes('kernels app of'), anonymous.body);
    }
    assert.deepEqual(outcomes, Array(ROUNDS).fill('403/401'));
    await sleep(200);
    for (const mark of marks)
      assert.ok(!appSaw(stack, alice, 'nb', mark), `a request with ${mark} reached alice's app`);
    // alice's upgrades reached her app: the refusal is the app's own.
    await appSees(stack, alice, 'nb', 'gone-0/channels');
  });

  it('closes a client connection to CHP after the refused upgrade: no second request rides on it', async () => {
    const wire = await WireConnection.open(stack.chp!.port);
    const mark = marker();
    try {
      wire.write(
        upgradeRequest(`${path}api/kernels/gone/channels`, {
          origin,
          authorization: `token ${aliceToken}`,
        }),
      );
      await wire.answers(1, 8000);
      assert.deepEqual(wire.statuses(), [404]);
      wire.write(plainRequest(`${path}files/${mark}`));
      await wire.closesWithin(3000);
      // CHP may answer on its own connection or close it; the app must never see the request.
      assert.ok(
        wire
          .statuses()
          .slice(1)
          .every((s) => s === 401),
        wire.text,
      );
      assert.ok(!wire.text.includes('kernels app of'), wire.text);
      await sleep(200);
      assert.ok(!appSaw(stack, alice, 'nb', mark));
    } finally {
      wire.destroy();
    }
  });

  it("still serves alice's plain requests (the allowed case)", async () => {
    const res = await viaChpRaw(stack, `${path}files/ok`, { authorization: `token ${aliceToken}` });
    assert.equal(res.status, 200);
    assert.equal(res.body, `kernels app of ${alice}`);
  });
});
