import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { HubappsError } from '../../../src/errors.js';
import { appSchema, type CatalogApp } from '../../../src/catalog/types.js';
import { NssUserDirectory } from '../../../src/users/nss.js';
import { UserPolicy } from '../../../src/users/policy.js';

const GROUP = 'hubapps-t-cfg-g';
const OTHER_GROUP = 'hubapps-t-cfg-g2';
const PRIMARY = 'hubapps-t-cfg-p';
const SUPPLEMENTARY = 'hubapps-t-cfg-s';
const OUTSIDER = 'hubapps-t-cfg-n';

const rejectsWith = (
  promise: Promise<unknown>,
  code: string,
  status: number,
  message?: RegExp | string,
) =>
  assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof HubappsError, `expected a HubappsError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.equal(err.status, status);
    if (typeof message === 'string') assert.equal(err.message, message);
    else if (message) assert.match(err.message, message);
    return true;
  });

const app = (allowed_groups: string[]): CatalogApp => ({
  ...appSchema.parse({ title: 'T', command: ['t'], allowed_groups }),
  name: 't',
  file: '/etc/hubapps/apps.d/t.yaml',
});

describe('NSS look-ups on this host', () => {
  const dir = new NssUserDirectory();
  const policy = new UserPolicy(dir, { allowedGroup: GROUP, minUid: 1000 });

  it('reports root with uid 0, its home and its primary group first', async () => {
    const root = await dir.lookup('root');
    assert.equal(root.uid, 0);
    assert.equal(root.gid, 0);
    assert.equal(root.home, '/root');
    assert.equal(root.groups[0], 'root');
  });

  it('refuses an unknown name with unknown_user 404, saying where it looked', async () => {
    await rejectsWith(
      dir.lookup('hubapps-t-nobody-here'),
      'unknown_user',
      404,
      "no such user 'hubapps-t-nobody-here' on this host (getent passwd)",
    );
  });

  it('does not resolve a numeric name to the account with that uid', async () => {
    await rejectsWith(dir.lookup('0'), 'unknown_user', 404);
  });

  it('refuses a name that could be read as an option', async () => {
    await rejectsWith(dir.lookup('-r'), 'invalid_user', 400);
  });

  it('reports a look-up tool that cannot run as nss_failed 500 and does not cache the failure', async () => {
    const fresh = new NssUserDirectory();
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent-hubapps-t';
    // The look-up spawns getent synchronously, so PATH can be restored before awaiting.
    const failing = fresh.lookup('root');
    process.env.PATH = path;
    await rejectsWith(failing, 'nss_failed', 500, /looking up user 'root' failed: getent .*ENOENT/);
    assert.equal((await fresh.lookup('root')).uid, 0);
  });

  it('refuses root as root', async () => {
    await rejectsWith(policy.check('root'), 'user_is_root', 403);
  });

  it('refuses system accounts below min_uid and the overflow account nobody', async () => {
    await rejectsWith(
      policy.check('daemon'),
      'system_user',
      403,
      /user 'daemon' has uid 1, a system account \(min_uid is 1000\)/,
    );
    await rejectsWith(policy.check('nobody'), 'system_user', 403, /uid 65534/);
  });

  it('refuses an unknown user with 404', async () => {
    await rejectsWith(policy.check('hubapps-t-nobody-here'), 'unknown_user', 404);
  });
});

describe('the allowed group, with test accounts', function () {
  const sh = (cmd: string, ...args: string[]) =>
    execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const quiet = (cmd: string, ...args: string[]) => {
    try {
      sh(cmd, ...args);
    } catch {
      // Absent already: nothing to remove.
    }
  };
  const removeAll = () => {
    for (const user of [PRIMARY, SUPPLEMENTARY, OUTSIDER]) quiet('userdel', user);
    for (const group of [GROUP, OTHER_GROUP]) quiet('groupdel', group);
  };

  before(function () {
    if (process.getuid?.() !== 0) {
      if (process.env.CI === 'true')
        throw new Error(
          'these tests need root to create test users and groups, and CI=true forbids skipping',
        );
      console.log('    (skipped: creating test users and groups needs root)');
      this.skip();
    }
    removeAll();
    sh('groupadd', GROUP);
    sh('groupadd', OTHER_GROUP);
    sh('useradd', '--no-create-home', '--shell', '/usr/sbin/nologin', '-g', GROUP, PRIMARY);
    sh(
      'useradd',
      '--no-create-home',
      '--shell',
      '/usr/sbin/nologin',
      '-G',
      `${GROUP},${OTHER_GROUP}`,
      SUPPLEMENTARY,
    );
    sh('useradd', '--no-create-home', '--shell', '/usr/sbin/nologin', OUTSIDER);
  });
  after(function () {
    if (process.getuid?.() === 0) removeAll();
  });

  const policy = (ttlMs?: number) =>
    new UserPolicy(new NssUserDirectory({ ttlMs }), { allowedGroup: GROUP, minUid: 1000 });

  it('allows a member through the primary group', async () => {
    const account = await policy().check(PRIMARY);
    assert.equal(account.name, PRIMARY);
    assert.ok(account.uid >= 1000);
    assert.equal(account.groups[0], GROUP);
  });

  it('allows a member through a supplementary group', async () => {
    const account = await policy().check(SUPPLEMENTARY);
    assert.ok(account.groups.includes(GROUP));
    assert.ok(account.groups.includes(OTHER_GROUP));
  });

  it('refuses a non-member with 403 and the usermod command that fixes it', async () => {
    await rejectsWith(
      policy().check(OUTSIDER),
      'user_not_in_group',
      403,
      `user ${OUTSIDER} is not a member of group ${GROUP}; an admin can add them with: usermod -aG ${GROUP} ${OUTSIDER}`,
    );
  });

  it('keeps an answer for the cache lifetime and sees a group change after it', async () => {
    // Long enough that a slow usermod on a busy machine still falls inside it.
    const ttl = 3000;
    const p = policy(ttl);
    const cachedAt = Date.now();
    await rejectsWith(p.check(OUTSIDER), 'user_not_in_group', 403);
    sh('usermod', '-aG', GROUP, OUTSIDER);
    try {
      await rejectsWith(p.check(OUTSIDER), 'user_not_in_group', 403);
      await new Promise((r) => setTimeout(r, Math.max(0, cachedAt + ttl + 100 - Date.now())));
      const account = await p.check(OUTSIDER);
      assert.ok(account.groups.includes(GROUP));
    } finally {
      sh('gpasswd', '-d', OUTSIDER, GROUP);
    }
  });

  it('lets an app with allowed_groups be used only by members of one of them', async () => {
    const p = policy();
    const supplementary = await p.check(SUPPLEMENTARY);
    const primary = await p.check(PRIMARY);
    assert.equal(p.appAllowed(supplementary, app([OTHER_GROUP])), true);
    assert.equal(p.appAllowed(primary, app([OTHER_GROUP])), false);
    assert.equal(p.appAllowed(primary, app([])), true);
  });
});
