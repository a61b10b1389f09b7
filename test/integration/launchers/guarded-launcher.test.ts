import assert from 'node:assert/strict';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HubappsError } from '../../../src/errors.js';
import type { PortGuard } from '../../../src/limits/port-guard.js';
import type { StartRequest } from '../../../src/protocol/wire.js';
import { GuardedLauncher } from '../../../src/launchers/guarded-launcher.js';
import { SudoLauncher } from '../../../src/launchers/sudo-launcher.js';
import type { UserDirectory } from '../../../src/users/account.js';
import { waitFor } from '../../helpers/index.js';
import { tmpDir, type TmpDir } from '../../helpers/tmp.js';

/** Stands in for sudo: notes that it ran, lives a moment as a proxy would, and ends with an error. */
const FAKE_SUDO = `#!/bin/sh
touch "$0.ran"
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
const request = (id: number, port: number) =>
  ({
    server: { id, user: 'alice', name: 'lab' },
    app: 'lab',
    options: {},
    port,
    secret: 's',
  }) as unknown as StartRequest;

/** Records every call; `allow` refuses while `refuse` is set, as the helper does under required. */
function recordingGuard(sudoRan: () => boolean) {
  const calls: string[] = [];
  const state = { refuse: false };
  const guard: PortGuard = {
    allow: async (port, uid, open) => {
      calls.push(
        `${open ? 'open' : 'allow'} ${port} ${uid}${sudoRan() ? ' (after the spawn)' : ''}`,
      );
      if (state.refuse) throw new HubappsError('port_guard_failed', 'no');
    },
    revoke: async (port, uid, open) =>
      void calls.push(`${open ? 'close' : 'revoke'} ${port} ${uid}`),
    sync: async () => void calls.push('sync'),
    allowForward: async (port, uid) => (calls.push(`forward ${port} ${uid}`), true),
    revokeForward: async (port, uid) => void calls.push(`unforward ${port} ${uid}`),
  };
  return { guard, calls, state };
}

describe('the host launcher with its apps’ ports guarded', () => {
  let tmp: TmpDir;
  let sudo: string;
  const make = () => {
    const rec = recordingGuard(() => existsSync(`${sudo}.ran`));
    const launcher = new GuardedLauncher(
      new SudoLauncher(sudo, '/opt/hubapps/bin/hubapps-proxy', directory, tmp.path),
      rec.guard,
      directory,
    );
    const exits: number[] = [];
    launcher.onExit((id) => exits.push(id));
    return { launcher, exits, ...rec };
  };
  beforeEach(async () => {
    tmp = await tmpDir('guarded-launcher');
    sudo = join(tmp.path, 'sudo');
    writeFileSync(sudo, FAKE_SUDO);
    chmodSync(sudo, 0o755);
  });
  afterEach(() => tmp.remove());

  it("allows the owner's uid on the app's port before anything runs, and takes it back when the server ends", async () => {
    const { launcher, exits, calls } = make();
    await launcher.start(request(5, 20005), join(tmp.path, 'log'));
    await waitFor(() => exits.length > 0, { timeout: 5000, what: 'the exit event' });
    await waitFor(() => calls.length === 2, { timeout: 2000, what: 'the revoke' });
    assert.deepEqual(calls, ['allow 20005 4242', 'revoke 20005 4242']);
  });

  it('spawns nothing when the guard cannot be set (required), and passes its error on', async () => {
    const { launcher, calls, state } = make();
    state.refuse = true;
    await assert.rejects(
      launcher.start(request(6, 20006), join(tmp.path, 'log')),
      /port_guard_failed|no/,
    );
    assert.equal(
      existsSync(`${sudo}.ran`),
      false,
      'sudo ran although the port could not be guarded',
    );
    assert.deepEqual(calls, ['allow 20006 4242']);
  });

  it('leaves servers without a port (unix-socket apps) alone', async () => {
    const { launcher, exits, calls } = make();
    await launcher.start(request(7, 0), join(tmp.path, 'log'));
    await waitFor(() => exits.length > 0, { timeout: 5000, what: 'the exit event' });
    assert.deepEqual(calls, []);
  });

  it("guards a hub server's app port for its owner and opens its proxy's TCP port, before anything runs, and takes both back", async () => {
    const { launcher, exits, calls } = make();
    const hubRequest = {
      ...request(9, 20001),
      appPort: 20002,
      hub: { user: 'alice', server: 'lab' },
    } as unknown as StartRequest;
    await launcher.start(hubRequest, join(tmp.path, 'log'));
    await waitFor(() => exits.length > 0, { timeout: 5000, what: 'the exit event' });
    await waitFor(() => calls.length === 4, { timeout: 2000, what: 'the release' });
    assert.deepEqual(calls, [
      'allow 20002 4242',
      'open 20001 4242',
      'revoke 20002 4242',
      'close 20001 4242',
    ]);
    const again = make();
    const restored = again.launcher.restore(
      { serverId: 9, user: 'alice', port: 20001, secret: 's', kind: 'sudo', appPort: 20002 },
      null,
    );
    await restored.stop({ graceMs: 100 });
    assert.deepEqual(again.calls, ['revoke 20002 4242', 'close 20001 4242']);
  });

  it('takes the pair back on a stop by a service that restarted since the start (the pair from the row and NSS)', async () => {
    const first = make();
    const h = await first.launcher.start(request(8, 20008), join(tmp.path, 'log'));
    const again = make();
    const restored = again.launcher.restore(
      { serverId: 8, user: 'alice', port: 20008, secret: 's', kind: 'sudo' },
      h.save(),
    );
    await restored.stop({ graceMs: 100 });
    assert.deepEqual(again.calls, ['revoke 20008 4242']);
  });
});
