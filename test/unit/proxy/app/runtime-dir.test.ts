import assert from 'node:assert/strict';
import { chmodSync, lstatSync, mkdirSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { HubappsError } from '../../../../src/errors.js';
import { makeRuntimeDir, removeRuntimeDir } from '../../../../src/proxy/app/runtime-dir.js';
import { tmpDir, type TmpDir } from '../../../helpers/index.js';

const refused = (re: RegExp) => (err: unknown) =>
  err instanceof HubappsError && err.code === 'runtime_dir' && re.test(err.message);

describe("proxy: the server's private runtime directory", () => {
  let tmp: TmpDir;
  const uid = process.getuid!();
  beforeEach(async () => (tmp = await tmpDir('runtime')));
  afterEach(async () => tmp.remove());

  it('makes a fresh 0700 directory per server in runtime_dir, never the same name twice', () => {
    const a = makeRuntimeDir(tmp.path, {}, uid);
    const b = makeRuntimeDir(tmp.path, {}, uid);
    assert.notEqual(a, b);
    for (const dir of [a, b]) {
      assert.equal(dirname(dir), tmp.path);
      assert.match(dir, new RegExp(`/${uid}-[A-Za-z0-9]{6}$`));
      const st = lstatSync(dir);
      assert.deepEqual([st.isDirectory(), st.mode & 0o777, st.uid], [true, 0o700, uid]);
    }
    removeRuntimeDir(a);
    assert.throws(() => lstatSync(a));
  });

  it('is not fooled by a directory someone made in advance under the old fixed name', () => {
    mkdirSync(join(tmp.path, `hubapps-${uid}`), { mode: 0o777 });
    const dir = makeRuntimeDir(tmp.path, {}, uid);
    assert.notEqual(dir, join(tmp.path, `hubapps-${uid}`));
    assert.equal(lstatSync(dir).mode & 0o777, 0o700);
  });

  it('refuses a parent others may write to without the sticky bit, and one that is a link', () => {
    chmodSync(tmp.path, 0o777);
    assert.throws(
      () => makeRuntimeDir(tmp.path, {}, uid),
      refused(/root-owned sticky directory \(mode 1733\) or the user's own/),
    );
    chmodSync(tmp.path, 0o700);
    const link = join(tmp.path, 'link');
    mkdirSync(join(tmp.path, 'real'), { mode: 0o700 });
    symlinkSync(join(tmp.path, 'real'), link);
    assert.throws(
      () => makeRuntimeDir(link, {}, uid),
      refused(/must be a root-owned sticky directory/),
    );
  });

  it("refuses a parent that belongs to another account and is not root's sticky directory", () => {
    assert.throws(
      () => makeRuntimeDir(tmp.path, {}, uid + 1),
      refused(/must be a root-owned sticky directory/),
    );
  });

  it('says how to create a missing runtime_dir, and falls back to XDG_RUNTIME_DIR only when none is given', () => {
    assert.throws(
      () => makeRuntimeDir(join(tmp.path, 'missing'), {}, uid),
      refused(/missing \(ENOENT\): create it root-owned with mode 1733/),
    );
    assert.throws(
      () => makeRuntimeDir(undefined, {}, uid),
      refused(/runtime_dir is not set and XDG_RUNTIME_DIR is not either/),
    );
    assert.equal(dirname(makeRuntimeDir(undefined, { XDG_RUNTIME_DIR: tmp.path }, uid)), tmp.path);
  });
});
