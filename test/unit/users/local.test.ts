import assert from 'node:assert/strict';
import { userInfo } from 'node:os';
import { HubappsError } from '../../../src/errors.js';
import { appSchema, type CatalogApp } from '../../../src/catalog/types.js';
import { LocalUserDirectory } from '../../../src/users/local.js';
import { LocalUserPolicy, appAllowed } from '../../../src/users/policy.js';
import type { Account } from '../../../src/users/account.js';

const app = (allowed_groups: string[]): CatalogApp => ({
  ...appSchema.parse({ title: 'T', command: ['t'], allowed_groups }),
  name: 't',
  file: '/etc/hubapps/apps.d/t.yaml',
});

describe('local mode users', () => {
  it('maps any valid name to the account the service runs as', async () => {
    const me = userInfo();
    const account = await new LocalUserDirectory().lookup('alice');
    assert.deepEqual(account, {
      name: 'alice',
      uid: me.uid,
      gid: me.gid,
      home: me.homedir,
      shell: me.shell ?? '/bin/sh',
      groups: ['local'],
    });
  });

  it('lets every valid name through the local policy, even names NSS does not know', async () => {
    const account = await new LocalUserPolicy().check('hubapps-t-nobody-here');
    assert.equal(account.uid, userInfo().uid);
  });

  it('still refuses an invalid name', async () => {
    await assert.rejects(
      new LocalUserPolicy().check('-rf'),
      (err: unknown) =>
        err instanceof HubappsError && err.code === 'invalid_user' && err.status === 400,
    );
  });

  it('allows every app, whatever its allowed_groups', async () => {
    const policy = new LocalUserPolicy();
    const account = await policy.check('alice');
    assert.equal(policy.appAllowed(), true);
    assert.equal(appAllowed(account, app(['admins'])), false, 'the plain rule would refuse it');
  });
});

describe('appAllowed', () => {
  const account: Account = {
    name: 'a',
    uid: 1001,
    gid: 1001,
    home: '/home/a',
    shell: '/bin/sh',
    groups: ['a', 'staff', 'r-users'],
  };

  it('opens an app without allowed_groups to everyone', () => {
    assert.equal(appAllowed(account, app([])), true);
  });

  it('needs one shared group when allowed_groups is set', () => {
    assert.equal(appAllowed(account, app(['r-users', 'x'])), true);
    assert.equal(appAllowed(account, app(['x', 'y'])), false);
  });
});
