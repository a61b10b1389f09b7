import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { DoctorContext } from '../../../../src/ops/doctor/check.js';
import { checkProxyCodeCache } from '../../../../src/ops/doctor/code-cache-check.js';
import { wrapperScript } from '../../../../src/ops/install/proxy-wrapper.js';
import { BUNDLE_FILE, CACHE_FILE } from '../../../../src/proxy/code-cache.js';
import { PROXY_ESM_MAIN, PROXY_MAIN, proxyArgs } from '../../../../src/proxy/command-line.js';
import { PROXY_NODE_FLAGS } from '../../../../src/proxy/node-flags.js';
import { randomBytes } from 'node:crypto';
import { requireRootOrSkip, tmpDir, type TmpDir } from '../../../helpers/index.js';
import { doctorContext } from './doctor-context.js';

function context(wrapper: string): DoctorContext {
  return doctorContext(
    { proxy_command: wrapper, chp: { auth_token: 'env:T_DOCTOR_CACHE' } },
    { T_DOCTOR_CACHE: 'token' },
  );
}

describe("hubapps doctor: the proxy's V8 code cache", function () {
  this.timeout(60_000);
  // doctor as root runs node on the program files only where nobody else can change them:
  // the copies live in a fresh root-owned directory under /opt, as an installation does.
  let root: string;
  let wrapper: string;
  let copy: string;
  const writeWrapper = (main: string, nodeFlags: readonly string[] = PROXY_NODE_FLAGS) =>
    writeFileSync(
      wrapper,
      wrapperScript({ node: process.execPath, nodeFlags, main, args: proxyArgs('/etc/apps.d') }),
    );
  const copyProxy = (to: string) => {
    mkdirSync(to, { recursive: true, mode: 0o755 });
    for (const file of ['hubapps-proxy.cjs', 'code-cache.js', BUNDLE_FILE, CACHE_FILE])
      copyFileSync(join(dirname(PROXY_MAIN), file), join(to, file));
    return join(to, 'hubapps-proxy.cjs');
  };
  before(function () {
    requireRootOrSkip(this, 'needs root: the check runs node only on root-owned files');
    root = `/opt/hubapps-t-${randomBytes(4).toString('hex')}`;
    mkdirSync(root, { mode: 0o755 });
    wrapper = join(root, 'hubapps-proxy');
    copy = copyProxy(join(root, 'proxy'));
  });
  after(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it("is ok when the build's cache fits the wrapper's node and V8 flags", () => {
    writeWrapper(copy);
    const [only, ...rest] = checkProxyCodeCache(context(wrapper));
    assert.equal(rest.length, 0);
    assert.equal(only!.status, 'ok', only!.what);
    assert.match(only!.what, /fits .*node/);
  });

  it('warns, with the fix, when the wrapper runs node with other V8 flags than the cache was made with', () => {
    writeWrapper(copy, []);
    const [only] = checkProxyCodeCache(context(wrapper));
    assert.equal(only!.status, 'warn');
    assert.match(only!.what, /another node or with other V8 flags.*compiles without it/);
    assert.match(only!.fix ?? '', /npm run build.*hubapps install/);
  });

  it('warns when the cache is damaged, and when it is missing', () => {
    writeWrapper(copy);
    writeFileSync(join(dirname(copy), CACHE_FILE), 'damaged');
    assert.match(checkProxyCodeCache(context(wrapper))[0]!.what, /another node or with other/);
    rmSync(join(dirname(copy), CACHE_FILE));
    const [missing] = checkProxyCodeCache(context(wrapper));
    assert.equal(missing!.status, 'warn');
    assert.match(missing!.what, /v8cache is missing/);
  });

  it('does not run node on files that someone besides root could have changed', async () => {
    const open: TmpDir = await tmpDir('doctor-cache');
    try {
      // Under /tmp, which everyone may write to.
      writeWrapper(copyProxy(join(open.path, 'proxy')));
      const [only] = checkProxyCodeCache(context(wrapper));
      assert.equal(only!.status, 'warn');
      assert.match(only!.what, /not checked .*not root's alone/);
    } finally {
      await open.remove();
    }
  });

  it('does not try a wrapper that runs another entry point (an earlier build, a hand-written one)', () => {
    writeWrapper(PROXY_ESM_MAIN);
    const [only] = checkProxyCodeCache(context(wrapper));
    assert.equal(only!.status, 'warn');
    assert.match(only!.what, /not checked .*does not run hubapps-proxy\.cjs/);
  });
});
