import assert from 'node:assert/strict';
import { requireRootOrSkip } from '../helpers/index.js';
import { waitFor } from '../helpers/wait.js';
import { renderSudoers, TEST_GROUP, TEST_USERS } from '../system/harness.js';
import { isAlive, processesOfServer, processesOfUid, uidOfUser } from '../system/proc-scan.js';
import { SystemStack } from '../system/system-stack.js';
import { addReliabilityApps, reconfigure, settled, writeRule } from './support.js';

const { alice, svc } = TEST_USERS;

/**
 * Scenario 6: sudo misconfigured. sudo -n answers every refusal alike ("a password is
 * required"), so the service turns it into a reason that names the sudoers rule and
 * `hubapps doctor`; the start leaves a failed row and no process behind.
 */
describe('reliability: a misconfigured sudo fails the start with a reason naming sudoers (real sudo)', function () {
  this.timeout(90_000);
  const stack = new SystemStack();
  let removeRule: (() => Promise<void>) | undefined;
  let n = 0;
  before(async function () {
    requireRootOrSkip(this);
    await stack.setUp();
    await addReliabilityApps(stack);
    await stack.removeSudoers();
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'failed') stack.reportFailure(this.currentTest.fullTitle());
    await removeRule?.();
    removeRule = undefined;
  });
  after(async () => stack.tearDown());

  const proxy = () => stack.installed!.proxyPath;

  /** Start a server of alice under the current sudo set-up and check that it fails cleanly. */
  const failsCleanly = async () => {
    const name = `sudo-${++n}`;
    const r = await stack.api('POST', `/users/${alice}/servers/${name}`, { app: 'tiny' });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const row = await stack.waitState(alice, name, ['failed'], 15_000);
    assert.match(row.reason!, /sudoers/);
    assert.match(row.reason!, /hubapps doctor/);
    const api = await stack.api('GET', `/users/${alice}/servers/${name}`);
    assert.equal(api.body.state, 'failed');
    assert.equal(api.body.reason, row.reason);
    await waitFor(() => !isAlive(row.launcher_pid), { timeout: 5000, what: 'sudo to exit' });
    assert.deepEqual(processesOfServer(row.id, alice), []);
    assert.deepEqual(processesOfUid(await uidOfUser(alice)), []);
    assert.equal((await stack.routes())[`/apps/${alice}/${name}`], undefined);
    await settled(stack);
  };

  const rules: Array<[string, () => string]> = [
    [
      'the rule needs a password (no NOPASSWD)',
      () => `${svc} ALL=(%${TEST_GROUP},!root) ${proxy()} ""`,
    ],
    ['the rule is for another group', () => `${svc} ALL=(%${svc},!root) NOPASSWD: ${proxy()} ""`],
    [
      'the rule names another program',
      () => `${svc} ALL=(%${TEST_GROUP},!root) NOPASSWD: ${proxy()}-old ""`,
    ],
    [
      'the rule allows arguments the service does not pass (a rule for "--version" only)',
      () => `${svc} ALL=(%${TEST_GROUP},!root) NOPASSWD: ${proxy()} --version`,
    ],
  ];

  it('the sudoers rule is missing', failsCleanly);

  for (const [title, rule] of rules) {
    it(title, async () => {
      removeRule = await writeRule(rule());
      await failsCleanly();
    });
  }

  it('proxy_command names another program than the rule', async () => {
    removeRule = await writeRule(renderSudoers(svc, TEST_GROUP, proxy()).trim());
    await reconfigure(stack, { proxy_command: '/usr/bin/env' });
    await failsCleanly();
  });

  it('proxy_command and the rule name a proxy that is not installed', async () => {
    const missing = `${stack.installed!.root}/bin/not-installed`;
    removeRule = await writeRule(`${svc} ALL=(%${TEST_GROUP},!root) NOPASSWD: ${missing} ""`);
    await reconfigure(stack, { proxy_command: missing });
    await failsCleanly();
  });

  it('starts servers again once the rule and proxy_command are right (the failures were the set-up, not the service)', async () => {
    removeRule = await writeRule(renderSudoers(svc, TEST_GROUP, proxy()).trim());
    await reconfigure(stack, { proxy_command: proxy() });
    const row = await stack.startServer(alice, 'fixed', 'tiny');
    assert.equal(row.state, 'running');
    assert.equal((await stack.api('DELETE', `/users/${alice}/servers/fixed`)).status, 200);
  });
});
