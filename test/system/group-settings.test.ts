import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { requireRootOrSkip } from '../helpers/index.js';
import { TEST_USERS } from './harness.js';
import { SystemStack } from './system-stack.js';

const { alice, carol } = TEST_USERS;
/** useradd gives carol a group of her own name, which alice is not in: a real Unix group to key settings by. */
const CAROLS_GROUP = carol;
const IDLE_S = 8;

describe('system: group_settings hold members of a Unix group to their own limits and culler (real sudo, real groups)', function () {
  this.timeout(90_000);
  const stack = new SystemStack({
    config: {
      limits: { servers_per_user: 5 },
      culler: { idle_timeout: 0 },
      group_settings: { [CAROLS_GROUP]: { servers_per_user: 1, idle_timeout: IDLE_S } },
    },
  });
  before(async function () {
    requireRootOrSkip(this);
    await stack.setUp();
    const groupsOf = (u: string) =>
      execFileSync('id', ['-Gn', u], { encoding: 'utf8' }).split(/\s+/);
    assert.ok(groupsOf(carol).includes(CAROLS_GROUP), `${carol} is in group ${CAROLS_GROUP}`);
    assert.ok(!groupsOf(alice).includes(CAROLS_GROUP), `${alice} is not in group ${CAROLS_GROUP}`);
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed') stack.reportFailure(this.currentTest.fullTitle());
  });
  after(() => stack.tearDown());

  it("refuses a member's second server with the group's servers_per_user, while others keep the global limit", async () => {
    await stack.startServer(carol, 'one', 'web');
    const second = await stack.api('POST', `/users/${carol}/servers/two`, { app: 'web' });
    assert.equal(second.status, 429, JSON.stringify(second.body));
    assert.equal(second.body.code, 'limit_reached');
    assert.match(
      second.body.message,
      new RegExp(`1 active servers \\(group_settings of ${carol}'s groups\\)`),
    );
    assert.equal(stack.row(carol, 'two'), undefined, 'no row written');
    await stack.startServer(alice, 'one', 'web');
    await stack.startServer(alice, 'two', 'web');
  });

  it("culls a member's idle server after the group's idle_timeout and leaves the others' (global: never) running", async () => {
    const t0 = Date.now();
    const culled = await stack.waitState(carol, 'one', ['stopped'], (IDLE_S + 20) * 1000);
    assert.match(culled.reason ?? '', new RegExp(`culled: idle for more than ${IDLE_S} s`));
    process.stdout.write(
      `      (measured: culled ${((Date.now() - t0) / 1000).toFixed(1)} s after the test began)\n`,
    );
    for (const name of ['one', 'two'])
      assert.equal(stack.row(alice, name)?.state, 'running', `${alice}/${name} still runs`);
  });
});
