import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { HubappsError } from '../../../src/errors.js';
import {
  CgroupTree,
  claimV2Root,
  detectLayout,
  layoutProblem,
} from '../../../src/limits/cgroup-tree.js';
import { HostLimits } from '../../../src/limits/host-limits.js';
import { serverLimitsConfigSchema } from '../../../src/limits/resources.js';
import type { StartRequest } from '../../../src/protocol/wire.js';
import { tmpDir, type TmpDir } from '../../helpers/tmp.js';

const MIB = 1024 * 1024;
// A plain directory keeps the files an rmdir of a real cgroup would ignore.
const rmTree = (dir: string) => fs.rmSync(dir, { recursive: true });
const read = (...p: string[]) => fs.readFileSync(path.join(...p), 'utf8');
const spec = (id: number, app = 'lab', options: Record<string, unknown> = {}) =>
  ({ server: { id, user: 'ann', name: 's' }, app, options }) as unknown as StartRequest;
const quiet = pino({ level: 'silent' });

describe('cgroups of servers, on a directory standing in for /sys/fs/cgroup', () => {
  let tmp: TmpDir;
  beforeEach(async () => {
    tmp = await tmpDir('cgroup');
  });
  afterEach(() => tmp.remove());

  const v1 = () => {
    for (const c of ['memory', 'cpu', 'pids'])
      fs.mkdirSync(path.join(tmp.path, c, 'hubapps'), { recursive: true });
    return new CgroupTree(detectLayout(tmp.path, 'hubapps', ''), rmTree);
  };

  it('reads a host with per-controller mounts as v1, with one root per controller named by cgroup_name', () => {
    assert.deepEqual(detectLayout(tmp.path, 'hubapps', '4:memory:/x\n0::/'), {
      version: 1,
      roots: {
        memory: `${tmp.path}/memory/hubapps`,
        cpu: `${tmp.path}/cpu/hubapps`,
        pids: `${tmp.path}/pids/hubapps`,
      },
    });
  });

  it("reads a unified host as v2, rooted at the service's own cgroup, also once the service sits in its leaf", () => {
    fs.writeFileSync(path.join(tmp.path, 'cgroup.controllers'), 'cpu memory pids\n');
    const root = `${tmp.path}/system.slice/hubapps.service`;
    assert.deepEqual(detectLayout(tmp.path, 'x', '0::/system.slice/hubapps.service\n'), {
      version: 2,
      root,
    });
    assert.deepEqual(detectLayout(tmp.path, 'x', '0::/system.slice/hubapps.service/service\n'), {
      version: 2,
      root,
    });
  });

  it('says what to run when the root is missing, and what the unit lacks when v2 controllers are not delegated', () => {
    assert.match(
      layoutProblem(detectLayout(tmp.path, 'hubapps', '')) ?? '',
      /memory\/hubapps is missing: run 'hubapps cgroup-setup' as root/,
    );
    fs.writeFileSync(path.join(tmp.path, 'cgroup.controllers'), '');
    fs.writeFileSync(path.join(tmp.path, 'cgroup.subtree_control'), 'memory\n');
    assert.match(
      layoutProblem({ version: 2, root: tmp.path }) ?? '',
      /controllers cpu, pids are not enabled .* Delegate=yes/,
    );
    fs.writeFileSync(path.join(tmp.path, 'cgroup.subtree_control'), 'cpu memory pids\n');
    assert.equal(layoutProblem({ version: 2, root: tmp.path }), null);
  });

  it('claims a delegated v2 cgroup: the service moves into its leaf, then the controllers are enabled for the servers beside it', () => {
    claimV2Root(tmp.path, 4242);
    assert.equal(read(tmp.path, 'service', 'cgroup.procs'), '4242\n');
    assert.equal(read(tmp.path, 'cgroup.subtree_control'), '+memory +cpu +pids');
  });

  it('writes v1 limits: memory (and memsw where swap is accounted), the CPU quota per 100 ms, pids; a process enters through three cgroup.procs', () => {
    const tree = v1();
    assert.equal(layoutProblem(tree.layout), null);
    tree.create(7, { memMb: 64, cpus: 0.5, pids: 100 });
    const dir = (c: string) => path.join(tmp.path, c, 'hubapps', 'server-7');
    assert.equal(Number(read(dir('memory'), 'memory.limit_in_bytes')), 64 * MIB);
    assert.equal(
      fs.existsSync(path.join(dir('memory'), 'memory.memsw.limit_in_bytes')),
      false,
      'not written where the kernel has no such file',
    );
    assert.equal(read(dir('cpu'), 'cpu.cfs_quota_us'), '50000');
    assert.equal(read(dir('cpu'), 'cpu.cfs_period_us'), '100000');
    assert.equal(read(dir('pids'), 'pids.max'), '100');
    assert.deepEqual(
      tree.procsFiles(7),
      ['memory', 'cpu', 'pids'].map((c) => path.join(dir(c), 'cgroup.procs')),
    );
    assert.deepEqual(tree.servers(), [7]);
    assert.equal(tree.remove(7), true);
    assert.deepEqual(tree.servers(), []);
  });

  it('writes v2 limits into one directory: memory.max, swap off where offered, cpu.max, pids.max', () => {
    const tree = new CgroupTree({ version: 2, root: tmp.path }, rmTree);
    fs.mkdirSync(path.join(tmp.path, 'server-3'));
    fs.writeFileSync(path.join(tmp.path, 'server-3', 'memory.swap.max'), 'max');
    tree.create(3, { memMb: 2048, cpus: 2, pids: 512 });
    const dir = path.join(tmp.path, 'server-3');
    assert.equal(
      fs.existsSync(path.join(dir, 'memory.swap.max')),
      false,
      'a leftover cgroup of the same id is replaced, not reused',
    );
    assert.equal(Number(read(dir, 'memory.max')), 2048 * MIB);
    assert.equal(read(dir, 'cpu.max'), '200000 100000');
    assert.equal(read(dir, 'pids.max'), '512');
    assert.deepEqual(tree.procsFiles(3), [path.join(dir, 'cgroup.procs')]);
  });

  it('turns a v1 oom_kill count into the reason the user reads, reports it once to the audit sink, and removes the cgroup', () => {
    const tree = v1();
    const limits = new HostLimits(
      serverLimitsConfigSchema.parse({ cgroups: 'required' }),
      tree,
      () => undefined,
      quiet,
    );
    const seen: unknown[] = [];
    limits.report((e) => seen.push(e));
    assert.equal(limits.prepare(spec(9)), true);
    const mem = path.join(tmp.path, 'memory', 'hubapps', 'server-9');
    assert.equal(
      Number(read(mem, 'memory.limit_in_bytes')),
      2048 * MIB,
      "server_limits.mem_mb's default",
    );
    fs.writeFileSync(
      path.join(mem, 'memory.oom_control'),
      'oom_kill_disable 0\nunder_oom 0\noom_kill 1\n',
    );
    assert.equal(limits.ended(9), 'stopped: out of memory (limit 2 GiB)');
    assert.deepEqual(seen, [{ serverId: 9, limit: '2 GiB' }]);
    assert.equal(
      limits.ended(9),
      'stopped: out of memory (limit 2 GiB)',
      'asked again (a probe after the exit event): the same reason',
    );
    assert.equal(seen.length, 1, 'reported once');
    assert.equal(fs.existsSync(mem), false);
  });

  it('ends a server that was not killed without a reason, and reads v2 memory.events', () => {
    const tree = new CgroupTree({ version: 2, root: tmp.path }, rmTree);
    const limits = new HostLimits(
      serverLimitsConfigSchema.parse({}),
      tree,
      () => ({ name: 'lab', limits: { mem_mb: 64, choices: {} } }),
      quiet,
    );
    fs.writeFileSync(path.join(tmp.path, 'cgroup.subtree_control'), 'cpu memory pids');
    assert.equal(limits.prepare(spec(4)), true);
    fs.writeFileSync(
      path.join(tmp.path, 'server-4', 'memory.events'),
      'low 0\nhigh 0\nmax 12\noom 1\noom_kill 0\n',
    );
    assert.equal(limits.ended(4), null, 'hitting the limit (max, oom) without a kill is no reason');
    assert.equal(limits.prepare(spec(5)), true);
    fs.writeFileSync(
      path.join(tmp.path, 'server-5', 'memory.events'),
      'max 3\noom 1\noom_kill 1\n',
    );
    assert.equal(limits.ended(5), 'stopped: out of memory (limit 64 MiB)');
  });

  it('fails a start when the root is missing under cgroups: required (503 cgroup_unavailable), and starts it unlimited under auto', () => {
    const tree = new CgroupTree(detectLayout(tmp.path, 'hubapps', ''), rmTree);
    const required = new HostLimits(
      serverLimitsConfigSchema.parse({ cgroups: 'required' }),
      tree,
      () => undefined,
      quiet,
    );
    assert.throws(
      () => required.prepare(spec(1)),
      (err: HubappsError) =>
        err.code === 'cgroup_unavailable' &&
        err.status === 503 &&
        /hubapps doctor/.test(err.message),
    );
    const auto = new HostLimits(
      serverLimitsConfigSchema.parse({ cgroups: 'auto' }),
      tree,
      () => undefined,
      quiet,
    );
    assert.equal(auto.prepare(spec(1)), false);
  });

  it('runs the command after its shell wrote its own pid into every cgroup.procs: the exec keeps that pid, so the command starts inside', () => {
    const tree = v1();
    const limits = new HostLimits(serverLimitsConfigSchema.parse({}), tree, () => undefined, quiet);
    limits.prepare(spec(2));
    const cmd = limits.enter(2, {
      file: '/bin/sh',
      args: ['-c', 'echo $$', 'with "quotes" and $dollars'],
    });
    const pid = execFileSync(cmd.file, cmd.args, { encoding: 'utf8' }).trim();
    for (const file of tree.procsFiles(2)) assert.equal(read(file).trim(), pid);
  });

  it('does not run the command when its pid cannot be placed (exit 126)', () => {
    const tree = v1();
    const limits = new HostLimits(serverLimitsConfigSchema.parse({}), tree, () => undefined, quiet);
    const cmd = limits.enter(8, { file: '/bin/echo', args: ['ran'] });
    assert.throws(
      () => execFileSync(cmd.file, cmd.args, { encoding: 'utf8', stdio: 'pipe' }),
      (err: { status: number; stdout: string }) => err.status === 126 && err.stdout === '',
    );
  });
});
