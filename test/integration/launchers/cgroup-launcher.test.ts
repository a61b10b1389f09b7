import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { CgroupTree, detectLayout } from '../../../src/limits/cgroup-tree.js';
import { HostLimits } from '../../../src/limits/host-limits.js';
import { serverLimitsConfigSchema } from '../../../src/limits/resources.js';
import type { StartRequest } from '../../../src/protocol/wire.js';
import { CgroupLauncher } from '../../../src/launchers/cgroup-launcher.js';
import type { ExitInfo } from '../../../src/launchers/launcher.js';
import { SudoLauncher } from '../../../src/launchers/sudo-launcher.js';
import type { UserDirectory } from '../../../src/users/account.js';
import { waitFor } from '../../helpers/index.js';
import { tmpDir, type TmpDir } from '../../helpers/tmp.js';

/** Stands in for sudo: records its argv, then lives a moment as a proxy would, and ends with an error. */
const FAKE_SUDO = `#!/bin/sh
printf '%s\\n' "$@" > "$0.argv"
cat > /dev/null
sleep 0.3
exit 1
`;

const directory: UserDirectory = {
  lookup: async (name) => ({
    name,
    uid: 4242,
    gid: 4242,
    home: `/home/${name}`,
    shell: '/bin/sh',
    groups: [],
  }),
};
const request = (id: number) =>
  ({
    server: { id, user: 'alice', name: 'lab' },
    app: 'lab',
    options: {},
    port: 40123,
    secret: 's',
  }) as unknown as StartRequest;

describe('the host launcher inside per-server cgroups', () => {
  let tmp: TmpDir;
  let sudo: string;
  let exits: Array<[number, ExitInfo]>;
  const launcher = (mode: 'auto' | 'required', withRoot = true) => {
    if (withRoot)
      for (const c of ['memory', 'cpu', 'pids'])
        mkdirSync(join(tmp.path, c, 'hubapps'), { recursive: true });
    const tree = new CgroupTree(detectLayout(tmp.path, 'hubapps', ''), (d) =>
      rmSync(d, { recursive: true }),
    );
    const limits = new HostLimits(
      serverLimitsConfigSchema.parse({ cgroups: mode }),
      tree,
      () => ({ name: 'lab', limits: { mem_mb: 64, choices: {} } }),
      pino({ level: 'silent' }),
    );
    const l = new CgroupLauncher(
      new SudoLauncher(sudo, '/opt/hubapps/bin/hubapps-proxy', directory, tmp.path),
      limits,
    );
    l.onExit((id, info) => exits.push([id, info]));
    return l;
  };
  beforeEach(async () => {
    tmp = await tmpDir('cgroup-launcher');
    sudo = join(tmp.path, 'sudo');
    writeFileSync(sudo, FAKE_SUDO);
    chmodSync(sudo, 0o755);
    exits = [];
  });
  afterEach(() => tmp.remove());

  it("puts the spawned process into the server's cgroup before it becomes sudo, with sudo's argv unchanged", async () => {
    const h = await launcher('required').start(request(5), join(tmp.path, 'log'));
    await waitFor(() => existsSync(`${sudo}.argv`), { timeout: 3000, what: 'the fake sudo' });
    for (const c of ['memory', 'cpu', 'pids'])
      assert.equal(
        readFileSync(join(tmp.path, c, 'hubapps', 'server-5', 'cgroup.procs'), 'utf8').trim(),
        String(h.pid),
        c,
      );
    assert.deepEqual(readFileSync(`${sudo}.argv`, 'utf8').trim().split('\n'), [
      '-n',
      '-u',
      'alice',
      '--',
      '/opt/hubapps/bin/hubapps-proxy',
    ]);
    assert.equal(
      readFileSync(
        join(tmp.path, 'memory', 'hubapps', 'server-5', 'memory.limit_in_bytes'),
        'utf8',
      ),
      String(64 * 1024 * 1024),
    );
    await waitFor(() => exits.length > 0, { timeout: 5000, what: 'the exit event' });
  });

  it('tells the lifecycle that the server ended out of memory, and removes its cgroup', async () => {
    await launcher('required').start(request(6), join(tmp.path, 'log'));
    writeFileSync(
      join(tmp.path, 'memory', 'hubapps', 'server-6', 'memory.oom_control'),
      'oom_kill_disable 0\nunder_oom 0\noom_kill 1\n',
    );
    await waitFor(() => exits.length > 0, { timeout: 5000, what: 'the exit event' });
    assert.deepEqual(exits, [
      [6, { code: 1, signal: null, reason: 'stopped: out of memory (limit 64 MiB)' }],
    ]);
    assert.equal(existsSync(join(tmp.path, 'memory', 'hubapps', 'server-6')), false);
  });

  it('ends a server that was not killed with its plain exit status', async () => {
    await launcher('required').start(request(8), join(tmp.path, 'log'));
    await waitFor(() => exits.length > 0, { timeout: 5000, what: 'the exit event' });
    assert.deepEqual(exits, [[8, { code: 1, signal: null }]]);
  });

  it('runs sudo directly, without a cgroup, under auto when the root is missing; refuses to spawn anything under required', async () => {
    const h = await launcher('auto', false).start(request(9), join(tmp.path, 'log'));
    await waitFor(() => existsSync(`${sudo}.argv`), { timeout: 3000, what: 'the fake sudo' });
    // The fake sudo is a script: its interpreter comes first, then the script itself, not `sh -c`.
    assert.equal(
      readFileSync(`/proc/${h.pid}/cmdline`, 'utf8').split('\0')[1],
      sudo,
      'no cgroup wrapper in front of sudo',
    );
    await waitFor(() => exits.length > 0, { timeout: 5000, what: 'the exit event' });
    rmSync(`${sudo}.argv`);
    await assert.rejects(
      launcher('required', false).start(request(10), join(tmp.path, 'log')),
      /cgroup_unavailable|cannot limit servers/,
    );
    assert.equal(existsSync(`${sudo}.argv`), false);
  });
});
