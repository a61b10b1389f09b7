import assert from 'node:assert/strict';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HubappsError } from '../../../src/errors.js';
import { explainEarlyExit } from '../../../src/launchers/start-failure.js';
import { SudoLauncher } from '../../../src/launchers/sudo-launcher.js';
import type { UserDirectory } from '../../../src/users/account.js';
import { waitFor } from '../../helpers/index.js';
import { tmpDir, type TmpDir } from '../../helpers/tmp.js';
import type { StartRequest } from '../../../src/protocol/wire.js';

/** Stands in for /usr/bin/sudo: records its argv and stdin, then answers as sudo does when the rule is missing. */
const FAKE_SUDO = `#!/bin/sh
printf '%s\\n' "$@" > "$0.argv"
cat > "$0.stdin"
echo "sudo: a password is required" >&2
exit 1
`;

const directory: UserDirectory = {
  lookup: async (name) => ({
    name,
    uid: 4242,
    gid: 4242,
    home: `/home/${name}`,
    shell: '/bin/sh',
    groups: ['hubapps-users'],
  }),
};

function request(): StartRequest {
  return {
    server: { id: 7, user: 'alice', name: 'lab' },
    app: 'jupyter',
    port: 40123,
    secret: 's3cret',
  } as unknown as StartRequest;
}

describe('the sudo launcher', () => {
  let tmp: TmpDir;
  let sudo: string;
  beforeEach(async () => {
    tmp = await tmpDir('sudo-launcher');
    sudo = join(tmp.path, 'sudo');
    writeFileSync(sudo, FAKE_SUDO);
    chmodSync(sudo, 0o755);
  });
  afterEach(async () => tmp.remove());

  it('runs exactly `sudo -n -u USER -- PROXY` and sends the StartRequest on stdin, never in argv', async () => {
    const launcher = new SudoLauncher(
      sudo,
      '/opt/hubapps/bin/hubapps-proxy',
      directory,
      '/run/hubapps/proxies',
    );
    const log = join(tmp.path, 'alice@lab.log');
    const launch = await launcher.start(request(), log);
    await waitFor(async () => launch.exit() !== undefined, { timeout: 10_000 });
    assert.deepEqual(readFileSync(`${sudo}.argv`, 'utf8').trimEnd().split('\n'), [
      '-n',
      '-u',
      'alice',
      '--',
      '/opt/hubapps/bin/hubapps-proxy',
    ]);
    const sent = JSON.parse(readFileSync(`${sudo}.stdin`, 'utf8')) as StartRequest;
    assert.match(sent.socket!, /^\/run\/hubapps\/proxies\/p-[0-9a-f]{24}\.sock$/);
    assert.deepEqual(sent, { ...request(), socket: sent.socket, appPort: request().port });
    assert.equal((JSON.parse(launch.save()) as { socket: string }).socket, sent.socket);
    assert.ok(!readFileSync(`${sudo}.argv`, 'utf8').includes('s3cret'));
    assert.deepEqual(launch.exit(), { code: 1, signal: null });
  });

  it("turns sudo's refusal in the server's log into sudo_refused with what to check", async () => {
    const launcher = new SudoLauncher(
      sudo,
      '/opt/hubapps/bin/hubapps-proxy',
      directory,
      '/run/hubapps/proxies',
    );
    const log = join(tmp.path, 'alice@lab.log');
    const launch = await launcher.start(request(), log);
    await waitFor(async () => launch.exit() !== undefined, { timeout: 10_000 });
    const failure = explainEarlyExit(
      'sudo',
      launch.exit()!,
      readFileSync(log, 'utf8').trimEnd().split('\n'),
      'alice',
      'hubapps-users',
    );
    assert.equal(failure.code, 'sudo_refused');
    assert.match(failure.reason, /hubapps-users|doctor/);
  });

  it('says which program is missing when sudo itself cannot be run', async () => {
    const launcher = new SudoLauncher(
      join(tmp.path, 'no-such-sudo'),
      '/opt/hubapps/bin/hubapps-proxy',
      directory,
      '/run/hubapps/proxies',
    );
    await assert.rejects(
      launcher.start(request(), join(tmp.path, 'x.log')),
      (err: unknown) =>
        err instanceof HubappsError &&
        err.code === 'spawn_failed' &&
        /no-such-sudo: ENOENT; check sudo_command/.test(err.message),
    );
  });

  it('checks a listener against the uid NSS gives the user, and trusts none for a user NSS no longer knows', async () => {
    const launcher = new SudoLauncher(sudo, '/p', directory, '/run/hubapps/proxies');
    const ref = { serverId: 7, user: 'alice', port: 40123, secret: 's', kind: 'sudo' } as const;
    const saved = JSON.stringify({ launcherPid: null, proxyPid: null });
    assert.equal((await launcher.restore(ref, saved).target())?.uid, 4242);
    const gone = new SudoLauncher(
      sudo,
      '/p',
      { lookup: async () => Promise.reject(new HubappsError('unknown_user', 'gone')) },
      '/run/hubapps/proxies',
    );
    assert.equal((await gone.restore(ref, saved).target())?.uid, -1);
  });
});
