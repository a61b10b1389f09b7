import { setTimeout as sleep } from 'node:timers/promises';
import { run, runOk } from './harness-exec.js';

/**
 * The Unix accounts system tests run against. Every name starts with hubapps-t- so that
 * clean-up can never touch a real account.
 *   alice   member of the allowed group through a supplementary group
 *   bob     member through his primary group (both paths NSS offers)
 *   carol   member like alice (a third user: sharing tests)
 *   mallory not a member
 *   svc     the service user: a system account without a login shell
 */
const TAG = testTag();
export const TEST_GROUP = `hubapps-t-${TAG}users`;
export const TEST_USERS = {
  alice: `hubapps-t-${TAG}alice`,
  bob: `hubapps-t-${TAG}bob`,
  carol: `hubapps-t-${TAG}carol`,
  mallory: `hubapps-t-${TAG}mallory`,
  svc: `hubapps-t-${TAG}svc`,
} as const;

/**
 * HUBAPPS_TEST_TAG (up to 4 of [a-z0-9]) puts a tag into every account name, so that two
 * checkouts on one machine can run their system tests at the same time without deleting
 * each other's accounts. CI leaves it unset.
 */
function testTag(): string {
  const tag = process.env.HUBAPPS_TEST_TAG ?? '';
  if (!/^[a-z0-9]{0,4}$/.test(tag))
    throw new Error(`HUBAPPS_TEST_TAG must be up to 4 of [a-z0-9], not '${tag}'`);
  return tag;
}

const ALL_USERS = Object.values(TEST_USERS);

/** Create the test group and accounts, removing leftovers of a crashed run first. Needs root. */
export async function createTestAccounts(): Promise<void> {
  await removeTestAccounts();
  await runOk('groupadd', [TEST_GROUP]);
  await runOk('useradd', ['-m', '-s', '/bin/bash', '-G', TEST_GROUP, TEST_USERS.alice]);
  await runOk('useradd', ['-m', '-s', '/bin/bash', '-g', TEST_GROUP, TEST_USERS.bob]);
  await runOk('useradd', ['-m', '-s', '/bin/bash', '-G', TEST_GROUP, TEST_USERS.carol]);
  await runOk('useradd', ['-m', '-s', '/bin/bash', TEST_USERS.mallory]);
  await runOk('useradd', ['--system', '-m', '-s', '/usr/sbin/nologin', TEST_USERS.svc]);
}

/** Kill what the test accounts still run, then delete the accounts, their homes and groups. Idempotent. */
export async function removeTestAccounts(): Promise<void> {
  const present: string[] = [];
  for (const user of ALL_USERS) if (await exists('passwd', user)) present.push(user);
  // All at once: a user's zombie is reaped only once its parent, a sudo of the service user, is gone.
  await killProcessesOf(present);
  for (const user of present) {
    const result = await run('userdel', ['-r', user]);
    // 12: the home or mail spool was already gone, which is what we want anyway.
    if (result.code !== 0 && result.code !== 12) {
      throw new Error(`userdel -r ${user} failed (${result.code}): ${result.stderr.trim()}`);
    }
  }
  for (const group of [TEST_GROUP, ...ALL_USERS]) {
    if (await exists('group', group)) await runOk('groupdel', [group]);
  }
}

export async function exists(database: 'passwd' | 'group', name: string): Promise<boolean> {
  return (await run('getent', [database, name])).code === 0;
}

/** SIGKILL every process running as one of `users`, by pid, and wait until they are gone (userdel refuses otherwise). */
async function killProcessesOf(users: string[]): Promise<void> {
  if (users.length === 0) return;
  const list = users.join(',');
  for (let round = 0; round < 50; round++) {
    // -u: effective uid, -U: real uid (a sudo started by the service user runs with euid 0).
    const listed = [
      (await run('pgrep', ['-u', list])).stdout,
      (await run('pgrep', ['-U', list])).stdout,
    ];
    const pids = [...new Set(listed.join('\n').split('\n').filter(Boolean).map(Number))];
    if (pids.length === 0) return;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // exited meanwhile
      }
    }
    await sleep(100);
  }
  throw new Error(`processes of ${list} survive SIGKILL`);
}
