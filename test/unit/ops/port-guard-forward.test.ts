import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bufferIo } from '../../../src/ops/io.js';
import type { BindGuardRunner } from '../../../src/ops/bind-guard.js';
import { runPortGuard, type Listeners, type Nft } from '../../../src/ops/port-guard.js';
import type { CommandResult } from '../../../src/ops/system.js';
import type { Listener } from '../../../src/procfs/listeners.js';
import { requireRootOrSkip } from '../../helpers/prereq.js';
import { tmpDir, type TmpDir } from '../../helpers/tmp.js';

/** An nft whose table holds the forward pairs `held` (null: no table at all); records every call. */
function fakeNft(held: Array<[number, number]> | null) {
  const calls: Array<{ args: string[]; input?: string }> = [];
  const nft: Nft = (args, input) => {
    calls.push({ args, ...(input === undefined ? {} : { input }) });
    const ok = (stdout = ''): CommandResult => ({ code: 0, stdout, stderr: '' });
    if (args[0] === '-j' || args[0] === 'list') {
      if (!held) return { code: 1, stdout: '', stderr: 'Error: No such file or directory' };
      if (args[0] === 'list') return ok('table inet hubapps_x {}\n');
      const elem = held.map(([p, u]) => ({ concat: [p, u] }));
      return ok(
        JSON.stringify({ nftables: [{ metainfo: {} }, { set: { name: 'forwards', elem } }] }),
      );
    }
    return ok();
  };
  return { nft, calls };
}

const noBindGuard: BindGuardRunner = () => {
  throw new Error('the bind guard must not run for forwards');
};

describe('hubapps port-guard: forwards of users’ own ports', () => {
  let tmp: TmpDir;
  let config: string;
  /** Who listens where, as /proc would say. */
  let table: Record<number, Listener[]>;
  const listeners: Listeners = (port) => table[port] ?? [];
  beforeEach(async () => {
    tmp = await tmpDir('port-guard-fwd');
    config = join(tmp.path, 'hubapps.yaml');
    writeFileSync(
      config,
      'port_range: {min: 20000, max: 20009}\nport_guard: {table: hubapps_x}\nmin_uid: 1000\nuser_ports: {ranges: ["6000-6999", 8787], cors: []}\n',
      { mode: 0o644 },
    );
    table = { 6006: [{ uid: 1001, inode: '1' }], 8787: [{ uid: 1001, inode: '2' }] };
  });
  afterEach(() => tmp.remove());

  const helper = (argv: string[], nft = fakeNft([])) => {
    const io = bufferIo();
    const status = runPortGuard(
      ['--config', config, ...argv],
      io,
      nft.nft,
      true,
      noBindGuard,
      listeners,
    );
    return { status, io, calls: nft.calls };
  };

  it("guards a port the owner's program listens on, taking another uid's earlier pair of it away in the same transaction", function () {
    requireRootOrSkip(this, 'needs root (the configuration the helper reads must be root-owned)');
    const r = helper(
      ['forward', '6006', '1001'],
      fakeNft([
        [6006, 1002],
        [8787, 1001],
      ]),
    );
    assert.equal(r.status, 0, r.io.stderr);
    assert.deepEqual(r.calls.at(-1), {
      args: ['-f', '-'],
      input:
        'delete element inet hubapps_x forwards { 6006 . 1002 }\n' +
        'add element inet hubapps_x fwdports { 6006 }\n' +
        'add element inet hubapps_x forwards { 6006 . 1001 }\n',
    });
    const fresh = helper(['forward', '8787', '1001'], fakeNft(null));
    assert.equal(fresh.status, 0, fresh.io.stderr);
    assert.match(fresh.calls.at(-1)!.input!, /^table inet hubapps_x \{\}\ndelete table/);
    assert.match(fresh.calls.at(-1)!.input!, /chain forward \{/);
  });

  it('refuses, running no nft change, a port outside user_ports.ranges (naming the setting), below 1024, in port_range, or of a system uid', function () {
    requireRootOrSkip(this, 'needs root (the configuration the helper reads must be root-owned)');
    writeFileSync(
      config,
      'port_range: {min: 20000, max: 20009}\nport_guard: {table: hubapps_x}\nuser_ports: {ranges: ["22", "5000-20005"]}\n',
    );
    table = {
      22: [{ uid: 1001, inode: '1' }],
      5432: [{ uid: 105, inode: '2' }],
      7000: [{ uid: 1001, inode: '3' }],
      20003: [{ uid: 1001, inode: '4' }],
    };
    const cases: Array<[string[], RegExp]> = [
      [['forward', '22', '1001'], /port 22 is not in user_ports\.ranges .* of ports 1024 and up/],
      [['forward', '20003', '1001'], /port 20003 is in port_range 20000-20009/],
      [['forward', '5432', '105'], /uid 105 is a system account's \(min_uid is 1000\)/],
      [['forward', '7000', '65534'], /uid 65534 is a system account's/],
      [['forward', '7000'], /forward takes PORT UID/],
      [['forward', 'x', '1001'], /port 'x' is not a port/],
    ];
    for (const [argv, why] of cases) {
      const r = helper(argv);
      assert.equal(r.status, 2, argv.join(' '));
      assert.match(r.io.stderr, why);
      assert.deepEqual(r.calls, [], `nft ran for ${argv.join(' ')}`);
    }
    writeFileSync(
      config,
      'port_range: {min: 20000, max: 20009}\nuser_ports: {ranges: ["7100-8000"]}\n',
    );
    const outside = helper(['forward', '7000', '1001']);
    assert.equal(outside.status, 2);
    assert.match(outside.io.stderr, /port 7000 is not in user_ports\.ranges \(7100-8000\)/);
    writeFileSync(config, 'user_ports: {enabled: false}\n');
    assert.match(helper(['forward', '7000', '1001']).io.stderr, /user_ports\.enabled is false/);
    writeFileSync(config, 'user_ports: {ranges: ["9000-8000"]}\n');
    assert.match(
      helper(['forward', '7000', '1001']).io.stderr,
      /key 'user_ports': '9000-8000' is not a port or a range/,
    );
  });

  it("exits 4, changing nothing, when nothing listens on the port or another uid's socket does too", function () {
    requireRootOrSkip(this, 'needs root (the configuration the helper reads must be root-owned)');
    table[6006]!.push({ uid: 1002, inode: '9' });
    for (const [port, why] of [
      ['6006', /port 6006 has a listener of another uid than 1001/],
      ['6500', /nothing listens on port 6500/],
    ] as const) {
      const r = helper(['forward', port, '1001']);
      assert.equal(r.status, 4, r.io.stderr);
      assert.match(r.io.stderr, why);
      assert.equal(r.calls.filter((c) => c.args[0] === '-f').length, 0);
    }
  });

  it("unforwards only the uid's own pair, whatever listens now, and nothing when the table is missing", function () {
    requireRootOrSkip(this, 'needs root (the configuration the helper reads must be root-owned)');
    table = {};
    const r = helper(['unforward', '6006', '1001'], fakeNft([[6006, 1001]]));
    assert.equal(r.status, 0, r.io.stderr);
    assert.equal(
      r.calls.at(-1)!.input,
      'delete element inet hubapps_x forwards { 6006 . 1001 }\ndelete element inet hubapps_x fwdports { 6006 }\n',
    );
    const other = helper(['unforward', '6006', '1001'], fakeNft([[6006, 1002]]));
    assert.equal(other.status, 0);
    assert.equal(
      other.calls.filter((c) => c.args[0] === '-f').length,
      0,
      "another uid's forward stays",
    );
    assert.equal(helper(['unforward', '6006', '1001'], fakeNft(null)).status, 0);
  });

  it('syncs forwards with the app entries, leaving out one whose listener is gone and refusing one outside the ranges', function () {
    requireRootOrSkip(this, 'needs root (the configuration the helper reads must be root-owned)');
    const io = bufferIo();
    const nft = fakeNft([]);
    const bindCalls: string[][] = [];
    const status = runPortGuard(
      ['--config', config, 'sync', '20001:1001', 'fwd:6006:1001', 'fwd:6500:1001'],
      io,
      nft.nft,
      true,
      (args) => (bindCalls.push(args), { code: 0, stdout: '', stderr: '' }),
      listeners,
    );
    assert.equal(status, 0, io.stderr);
    const script = nft.calls.at(-1)!.input!;
    assert.match(
      script,
      /set owners \{ type inet_service \. uid; elements = \{ 20001 \. 1001 \}; \}/,
    );
    assert.match(script, /set fwdports \{ type inet_service; elements = \{ 6006 \}; \}/);
    assert.match(
      script,
      /set forwards \{ type inet_service \. uid; elements = \{ 6006 \. 1001 \}; \}/,
    );
    assert.match(io.stdout, /left out fwd:6500:1001: nothing listens on port 6500/);
    assert.deepEqual(bindCalls, [['hubapps_x', '20000', '20009', 'sync', '20001:1001']]);
    const bad = helper(['sync', 'fwd:22:1001']);
    assert.equal(bad.status, 2);
    assert.match(bad.io.stderr, /port 22 is not in user_ports\.ranges/);
    assert.deepEqual(bad.calls, []);
  });
});
