import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bufferIo } from '../../../src/ops/io.js';
import { runPortGuard, type Nft } from '../../../src/ops/port-guard.js';
import type { CommandResult } from '../../../src/ops/system.js';
import { requireRootOrSkip } from '../../helpers/prereq.js';
import { tmpDir, type TmpDir } from '../../helpers/tmp.js';

/** Records what the helper asks of nft; `table` says whether `list table` finds it. */
function fakeNft(
  table: boolean,
  fail?: string,
): Nft & { calls: Array<{ args: string[]; input?: string }> } {
  const calls: Array<{ args: string[]; input?: string }> = [];
  const nft = ((args: string[], input?: string): CommandResult => {
    calls.push({ args, ...(input === undefined ? {} : { input }) });
    if (args[0] === 'list')
      return table
        ? { code: 0, stdout: 'table inet hubapps {}\n', stderr: '' }
        : { code: 1, stdout: '', stderr: 'Error: No such file or directory' };
    return fail ? { code: 1, stdout: '', stderr: fail } : { code: 0, stdout: '', stderr: '' };
  }) as Nft & { calls: typeof calls };
  nft.calls = calls;
  return nft;
}

describe('hubapps port-guard (the root helper)', () => {
  let tmp: TmpDir;
  let config: string;
  beforeEach(async () => {
    tmp = await tmpDir('port-guard');
    config = join(tmp.path, 'hubapps.yaml');
    writeFileSync(
      config,
      'port_range: {min: 20000, max: 20009}\nport_guard: {table: hubapps_x}\n',
      { mode: 0o644 },
    );
  });
  afterEach(() => tmp.remove());

  const guard = (argv: string[], nft = fakeNft(true)) => {
    const io = bufferIo();
    const status = runPortGuard(['--config', config, ...argv], io, nft, true);
    return { status, io, nft };
  };

  it('allows a pair in the configured table, making the table first when it is missing', function () {
    requireRootOrSkip(this, 'needs root (the configuration the helper reads must be root-owned)');
    const made = guard(['allow', '20003', '1001'], fakeNft(false));
    assert.equal(made.status, 0, made.io.stderr);
    const script = made.nft.calls.at(-1)!;
    assert.deepEqual(script.args, ['-f', '-']);
    assert.match(
      script.input!,
      /^table inet hubapps_x \{\}\ndelete table inet hubapps_x\ntable inet hubapps_x \{/,
    );
    assert.match(script.input!, /tcp dport 20000-20009/);
    assert.match(script.input!, /add element inet hubapps_x owners \{ 20003 \. 1001 \}\n$/);
    const again = guard(['allow', '20003', '1001']);
    assert.equal(
      again.nft.calls.at(-1)!.input,
      'add element inet hubapps_x owners { 20003 . 1001 }\n',
      'an existing table is left as it is',
    );
  });

  it('refuses ports outside port_range, bad uids, unknown operations and a second --config with status 2, running nothing', function () {
    requireRootOrSkip(this, 'needs root (the configuration the helper reads must be root-owned)');
    for (const argv of [
      ['allow', '20010', '1001'],
      ['allow', '20001', 'root'],
      ['revoke', '20001'],
      ['sync', '20001:1001', '1:open'],
      ['flush'],
      [],
    ]) {
      const r = guard(argv);
      assert.equal(r.status, 2, argv.join(' '));
      assert.match(r.io.stderr, /^hubapps port-guard: /);
      assert.deepEqual(r.nft.calls, [], `nft ran for ${argv.join(' ')}`);
    }
    const twice = guard(['--config', '/etc/hostname', 'show']);
    assert.equal(twice.status, 2);
    assert.match(twice.io.stderr, /--config must be given exactly once/);
  });

  it('refuses a configuration that someone but root could have written, naming the file', function () {
    requireRootOrSkip(this, 'needs root (the configuration the helper reads must be root-owned)');
    chmodSync(config, 0o664);
    const r = guard(['show']);
    assert.equal(r.status, 1);
    assert.match(
      r.io.stderr,
      new RegExp(`${config} must be owned by root and writable by nobody else`),
    );
    chmodSync(config, 0o644);
    writeFileSync(config, 'port_range: {min: 30000, max: 20000}\n');
    const bad = guard(['show']);
    assert.match(
      bad.io.stderr,
      new RegExp(`${config}: key 'port_range': min must not be greater than max`),
    );
  });

  it('says when it is not root, and what nft said when nft fails', function () {
    requireRootOrSkip(this, 'needs root (the configuration the helper reads must be root-owned)');
    const io = bufferIo();
    assert.equal(runPortGuard(['--config', config, 'show'], io, fakeNft(true), false), 1);
    assert.match(io.stderr, /must run as root/);
    const failed = guard(
      ['sync', '20001:1001', '20002:open'],
      fakeNft(true, 'Error: Could not process rule: Operation not supported'),
    );
    assert.equal(failed.status, 1);
    assert.match(
      failed.io.stderr,
      /nft failed: Error: Could not process rule: Operation not supported/,
    );
    assert.match(
      failed.nft.calls[0]!.input!,
      /elements = \{ 20001 \. 1001 \}.*\n.*elements = \{ 20002 \}/,
    );
  });

  it('treats removing a missing table as done, and showing one as an error', function () {
    requireRootOrSkip(this, 'needs root (the configuration the helper reads must be root-owned)');
    assert.equal(guard(['remove'], fakeNft(false)).status, 0);
    const shown = guard(['show'], fakeNft(false));
    assert.equal(shown.status, 1);
    assert.match(shown.io.stderr, /there is no table inet hubapps_x/);
  });
});
