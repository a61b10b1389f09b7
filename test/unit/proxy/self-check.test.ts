import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HubappsError } from '../../../src/errors.js';
import { checkCatalogFile, checkRunAs, type Identity } from '../../../src/proxy/self-check.js';
import { requireRootOrSkip, tmpDir, type TmpDir } from '../../helpers/index.js';

const policy = { minUid: 1000, allowedGroup: 'hubapps-users' };
const gids: Record<string, number> = { 'hubapps-users': 5000 };
const gidOf = (g: string) => gids[g];
const alice: Identity = { uid: 1001, name: 'alice', gids: [1001, 5000] };

function refusedWith(fn: () => void, code: string, pattern: RegExp): void {
  assert.throws(
    fn,
    (err: unknown) => err instanceof HubappsError && err.code === code && pattern.test(err.message),
  );
}

describe('hubapps-proxy checks itself before running anything under sudo', () => {
  it('runs for a member of the allowed group at or above min_uid', () => {
    assert.doesNotThrow(() => checkRunAs(alice, policy, gidOf));
  });

  it('refuses uid 0 under any name, whatever min_uid says', () => {
    refusedWith(
      () => checkRunAs({ uid: 0, name: 'toor', gids: [5000] }, { ...policy, minUid: 1 }, gidOf),
      'refused_user',
      /uid 0 \(toor\).*never runs apps as root/,
    );
  });

  it('refuses an account below min_uid', () => {
    refusedWith(
      () => checkRunAs({ uid: 999, name: 'daemonish', gids: [5000] }, policy, gidOf),
      'refused_user',
      /below min_uid 1000/,
    );
  });

  it('refuses an account outside the allowed group, and a group that does not exist', () => {
    refusedWith(
      () => checkRunAs({ ...alice, gids: [1001] }, policy, gidOf),
      'refused_user',
      /alice is not a member of the allowed group hubapps-users/,
    );
    refusedWith(
      () => checkRunAs(alice, { ...policy, allowedGroup: 'gone' }, gidOf),
      'refused_user',
      /allowed group gone does not exist/,
    );
  });

  describe('the catalog', () => {
    let dir: TmpDir;
    let catalog = '';
    const me = process.getuid!();
    // Root-owned when the test runs as root; as another user only the refusals can be shown.
    const someoneElse = me === 0 ? 65534 : me;
    beforeEach(async () => {
      dir = await tmpDir('selfcheck');
      catalog = join(dir.path, 'apps.d');
      mkdirSync(catalog, { mode: 0o755 });
      writeFileSync(join(catalog, 'lab.yaml'), 'command: [/bin/true]\n', { mode: 0o644 });
      chmodSync(dir.path, 0o755);
    });
    afterEach(() => dir.remove());

    it('is accepted when the directory and the app file are root-owned and writable by root only', function () {
      requireRootOrSkip(this, 'only root can make root-owned files');
      assert.doesNotThrow(() => checkCatalogFile(catalog, 'lab'));
      chmodSync(join(catalog, 'lab.yaml'), 0o664); // group root may write: still only root
      assert.doesNotThrow(() => checkCatalogFile(catalog, 'lab'));
    });

    it('is refused when the directory belongs to someone else', () => {
      chownSync(catalog, someoneElse, someoneElse);
      refusedWith(
        () => checkCatalogFile(catalog, 'lab'),
        'catalog_unsafe',
        new RegExp(`catalog directory .* is owned by uid ${someoneElse}, not root`),
      );
    });

    it('is refused when the app file belongs to someone else', () => {
      if (me === 0) chownSync(join(catalog, 'lab.yaml'), someoneElse, someoneElse);
      const expected =
        me === 0
          ? /app file of 'lab' .* is owned by uid 65534, not root/
          : /is owned by uid \d+, not root/;
      refusedWith(() => checkCatalogFile(catalog, 'lab'), 'catalog_unsafe', expected);
    });

    it('is refused when others, or a group other than root, may write the directory or the file', function () {
      requireRootOrSkip(
        this,
        'only root can make root-owned files, and ownership is checked first',
      );
      chmodSync(catalog, 0o757);
      refusedWith(
        () => checkCatalogFile(catalog, 'lab'),
        'catalog_unsafe',
        /catalog directory .* is writable by every user \(mode 757\)/,
      );
      chmodSync(catalog, 0o755);
      chownSync(join(catalog, 'lab.yaml'), 0, 100);
      chmodSync(join(catalog, 'lab.yaml'), 0o664);
      refusedWith(
        () => checkCatalogFile(catalog, 'lab'),
        'catalog_unsafe',
        /app file of 'lab' .* is writable by group 100/,
      );
    });
  });
});
