import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bufferIo } from '../../../src/ops/io.js';
import type { BindGuardRunner } from '../../../src/ops/bind-guard.js';
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

/** Records the bind guard's calls (the script's argv); `fail` makes each one fail with that message, `missing` as if python3 were not installed. */
function fakeBindGuard(
  outcome: { fail?: string; missing?: boolean } = {},
): BindGuardRunner & { calls: string[][] } {
  const calls: string[][] = [];
  const run = ((args: string[]): CommandResult => {
    calls.push(args);
    if (outcome.missing) return { code: null, stdout: '', stderr: '', error: 'python3: ENOENT' };
    if (outcome.fail) return { code: 1, stdout: '', stderr: `bind guard: ${outcome.fail}\n` };
    return { code: 0, stdout: args[3] === 'show' ? '20003 1001\n' : '', stderr: '' };
  }) as BindGuardRunner & { calls: string[][] };
  run.calls = calls;
  return run;
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

  const guard = (argv: string[], nft = fakeNft(true), bind = fakeBindGuard()) => {
    const io = bufferIo();
    const status = runPortGuard(['--config', config, ...argv], io, nft, true, bind);
    return { status, io, nft, bind };
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
      assert.deepEqual(r.bind.calls, [], `the bind guard ran for ${argv.join(' ')}`);
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

  it("opens a hub server's proxy port to every account's connections and closes it again, its bind its owner's alone", function () {
    requireRootOrSkip(this, 'needs root (the configuration the helper reads must be root-owned)');
    const opened = guard(['open', '20004', '1001'], fakeNft(false));
    assert.equal(opened.status, 0, opened.io.stderr);
    assert.match(
      opened.nft.calls.at(-1)!.input!,
      /^table inet hubapps_x \{\}\n/,
      'the table is made first',
    );
    assert.match(opened.nft.calls.at(-1)!.input!, /add element inet hubapps_x open \{ 20004 \}\n$/);
    assert.deepEqual(opened.bind.calls, [
      ['hubapps_x', '20000', '20009', 'allow', '20004', '1001'],
    ]);
    const closed = guard(['close', '20004', '1001']);
    assert.equal(closed.status, 0, closed.io.stderr);
    assert.equal(
      closed.nft.calls.at(-1)!.input,
      'add element inet hubapps_x open { 20004 }\ndelete element inet hubapps_x open { 20004 }\n',
    );
    assert.deepEqual(closed.bind.calls, [
      ['hubapps_x', '20000', '20009', 'revoke', '20004', '1001'],
    ]);
    for (const argv of [
      ['open', '20010', '1001'],
      ['open', '20004'],
      ['close', '20004', 'root'],
    ]) {
      const r = guard(argv);
      assert.equal(r.status, 2, argv.join(' '));
      assert.deepEqual(r.bind.calls, [], `${argv.join(' ')} ran the bind guard`);
    }
  });

  it('hands every operation to the bind guard after nft, with the range and the table name, open entries left out', function () {
    requireRootOrSkip(this, 'needs root (the configuration the helper reads must be root-owned)');
    const argvs = [
      ['allow', '20003', '1001'],
      ['revoke', '20003', '1001'],
      ['sync', '20001:1001', '20002:open'],
      ['show'],
      ['remove'],
    ];
    const seen = argvs.map((argv) => {
      const r = guard(argv);
      assert.equal(r.status, 0, r.io.stderr);
      assert.equal(r.nft.calls.length > 0, true, 'nft ran first');
      return { call: r.bind.calls, out: r.io.stdout };
    });
    assert.deepEqual(
      seen.map((s) => s.call),
      [
        [['hubapps_x', '20000', '20009', 'allow', '20003', '1001']],
        [['hubapps_x', '20000', '20009', 'revoke', '20003', '1001']],
        [['hubapps_x', '20000', '20009', 'sync', '20001:1001']],
        [['hubapps_x', '20000', '20009', 'show']],
        [['hubapps_x', '20000', '20009', 'remove']],
      ],
    );
    assert.match(seen[3]!.out, /table inet hubapps \{\}\n# bind guard: port uid\n20003 1001\n$/);
  });

  it("exits 3 when only the bind guard fails, with the script's message, and names the fix when python3 is missing", function () {
    requireRootOrSkip(this, 'needs root (the configuration the helper reads must be root-owned)');
    const failed = guard(
      ['allow', '20003', '1001'],
      fakeNft(true),
      fakeBindGuard({ fail: 'no cgroup2' }),
    );
    assert.equal(failed.status, 3, 'nft did its part: status 3 says only the bind guard failed');
    assert.equal(failed.io.stderr, 'hubapps port-guard: bind guard: no cgroup2\n');
    const missing = guard(['sync'], fakeNft(true), fakeBindGuard({ missing: true }));
    assert.equal(missing.status, 3);
    assert.match(
      missing.io.stderr,
      /\/usr\/bin\/python3 is missing \(install python3, or set port_guard.bind: false\)/,
    );
  });

  it('with port_guard.bind: false, never runs the bind guard unless one is left to remove', function () {
    requireRootOrSkip(this, 'needs root (the configuration the helper reads must be root-owned)');
    writeFileSync(
      config,
      'port_range: {min: 20000, max: 20009}\nport_guard: {table: hubapps_unit_none, bind: false}\n',
    );
    for (const argv of [['allow', '20003', '1001'], ['sync', '20001:1001'], ['show'], ['remove']]) {
      const r = guard(argv);
      assert.equal(r.status, 0, r.io.stderr);
      assert.deepEqual(r.bind.calls, [], argv.join(' '));
    }
  });
});
