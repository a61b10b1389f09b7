import assert from 'node:assert/strict';
import pino from 'pino';
import { HubappsError } from '../../../src/errors.js';
import { guardEntries, HelperPortGuard } from '../../../src/limits/port-guard.js';
import { proxyOnTcp } from '../../../src/lifecycle/launches.js';
import type { ServerRow } from '../../../src/model/server.js';
import { checkUserName } from '../../../src/names.js';
import { SudoLauncher } from '../../../src/launchers/sudo-launcher.js';
import type { UserDirectory } from '../../../src/users/account.js';

const silent = pino({ level: 'silent' });
const directory: UserDirectory = {
  lookup: async (name) => {
    if (name === 'gone') throw new HubappsError('unknown_user', 'no such user');
    return {
      name,
      uid: name === 'alice' ? 1001 : 1002,
      gid: 100,
      home: `/home/${name}`,
      shell: '/bin/sh',
      groups: [],
    };
  },
};

/** A helper that records its calls and fails while `failing` is set. */
function recorder() {
  const calls: string[][] = [];
  const state = { failing: '' };
  const run = async (args: string[]) => {
    calls.push(args);
    if (state.failing) throw new Error(state.failing);
  };
  return { calls, state, run };
}

describe('port guard: the service side', () => {
  it('passes allow, revoke and sync to the helper one at a time, in order', async () => {
    const h = recorder();
    let running = 0;
    let most = 0;
    const guard = new HelperPortGuard({
      mode: 'required',
      log: silent,
      run: async (args) => {
        most = Math.max(most, ++running);
        await new Promise((r) => setTimeout(r, 5));
        running--;
        await h.run(args);
      },
    });
    await Promise.all([
      guard.allow(20001, 1001),
      guard.revoke(20001, 1001),
      guard.sync([
        { port: 20002, uid: 1002 },
        { port: 20003, uid: null },
      ]),
    ]);
    assert.deepEqual(h.calls, [
      ['allow', '20001', '1001'],
      ['revoke', '20001', '1001'],
      ['sync', '20002:1002', '20003:open'],
    ]);
    assert.equal(most, 1, 'two nft transactions ran at once');
  });

  it('fails a start under required with 503 port_guard_failed naming the port and what the helper said; a revoke never throws', async () => {
    const h = recorder();
    h.state.failing = 'sudo: a password is required';
    const guard = new HelperPortGuard({ mode: 'required', log: silent, run: h.run });
    await assert.rejects(guard.allow(20001, 1001), (err: HubappsError) => {
      assert.equal(err.code, 'port_guard_failed');
      assert.equal(err.status, 503);
      assert.match(err.message, /port 20001 \(sudo: a password is required\).*hubapps doctor/);
      return true;
    });
    await guard.revoke(20001, 1001);
    await guard.sync([]);
    h.state.failing = '';
    await guard.allow(20001, 1001);
    assert.equal(h.calls.length, 4, 'required tries the helper every time');
  });

  it('under auto, starts without the guard when the helper fails, and leaves it alone for a while before trying again', async () => {
    const h = recorder();
    h.state.failing = 'sudo: a password is required';
    const warnings: string[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(line) });
    const guard = new HelperPortGuard({ mode: 'auto', log, run: h.run, retryAfterMs: 50 });
    await guard.allow(20001, 1001);
    await guard.allow(20002, 1001);
    assert.equal(h.calls.length, 1, 'a failing helper was run again at once');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /starts go on without it .* open to every local account/);
    await new Promise((r) => setTimeout(r, 60));
    h.state.failing = '';
    await guard.allow(20003, 1001);
    assert.deepEqual(h.calls.at(-1), ['allow', '20003', '1001']);
  });

  it('goes on under both modes when only the bind guard failed (exit status 3), warning each time and never resting', async () => {
    for (const mode of ['required', 'auto'] as const) {
      const calls: string[][] = [];
      const warnings: string[] = [];
      const log = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(line) });
      const guard = new HelperPortGuard({
        mode,
        log,
        run: async (args) => {
          calls.push(args);
          throw Object.assign(new Error('bind guard: Operation not permitted'), { status: 3 });
        },
      });
      await guard.allow(20001, 1001);
      await guard.allow(20002, 1001);
      assert.equal(
        calls.length,
        2,
        `${mode}: the helper was left alone after a bind guard failure`,
      );
      assert.equal(warnings.length, 2);
      assert.match(warnings[0]!, /the bind guard failed, so other local accounts can hold ports/);
      assert.match(warnings[0]!, /Operation not permitted/);
    }
  });

  it('guards forwards through the helper: declined (exit 4, exit 2) is false without resting, a failure throws only under required', async () => {
    const statuses: Array<number | undefined> = [4, 2];
    const calls: string[][] = [];
    const run = async (args: string[]) => {
      calls.push(args);
      const status = statuses.shift();
      if (status !== undefined) throw Object.assign(new Error(`declined ${status}`), { status });
    };
    const auto = new HelperPortGuard({ mode: 'auto', log: silent, run, retryAfterMs: 60_000 });
    assert.equal(await auto.allowForward(6006, 1001), false);
    assert.equal(await auto.allowForward(6006, 1001), false);
    assert.equal(
      await auto.allowForward(6006, 1001),
      true,
      'a declined forward left the helper resting',
    );
    await auto.revokeForward(6006, 1001);
    await auto.sync([{ port: 20001, uid: 1001 }], [{ port: 6006, uid: 1001 }]);
    assert.deepEqual(calls.slice(-2), [
      ['unforward', '6006', '1001'],
      ['sync', '20001:1001', 'fwd:6006:1001'],
    ]);
    const h = recorder();
    h.state.failing = 'sudo: a password is required';
    const required = new HelperPortGuard({ mode: 'required', log: silent, run: h.run });
    await assert.rejects(required.allowForward(6006, 1001), (err: HubappsError) => {
      assert.equal(err.code, 'port_guard_failed');
      assert.match(err.message, /your port 6006 \(sudo: a password is required\)/);
      return true;
    });
    await required.revokeForward(6006, 1001);
  });

  it("rebuilds the guard from the rows a restart finds: owners' app ports, TCP proxies of old rows open, Slurm and socket apps left out", async () => {
    // The sudo launcher reads the saved state, as at a real start-up (nothing is spawned).
    const launcher = new SudoLauncher(
      '/usr/bin/sudo',
      '/opt/hubapps/bin/hubapps-proxy',
      directory,
      '/run/hubapps/proxies',
    );
    const row = (over: Partial<ServerRow>) =>
      ({
        user: 'alice',
        port: 20001,
        launcher: 'sudo',
        launcher_state: '{"launcherPid":1,"proxyPid":2,"socket":"/run/hubapps/proxies/p-1.sock"}',
        ...over,
      }) as ServerRow;
    const entries = await guardEntries(
      [
        row({}),
        row({ user: checkUserName('bob'), port: 20002 }),
        row({ port: 20003, launcher_state: '{"launcherPid":1,"proxyPid":2,"socket":null}' }),
        row({ port: 20004, launcher: 'slurm' }),
        row({ port: null }),
        row({ port: 20005, launcher_state: null }),
        row({ user: checkUserName('gone'), port: 20006 }),
      ],
      async (user) => (await directory.lookup(user)).uid,
      (r) => proxyOnTcp(launcher, r),
    );
    assert.deepEqual(entries, [
      { port: 20001, uid: 1001 },
      { port: 20002, uid: 1002 },
      { port: 20003, uid: null },
      { port: 20005, uid: 1001 },
    ]);
    // A server JupyterHub started: its app port its owner's, its proxy's TCP port open to the hub's CHP.
    const hub = await guardEntries(
      [
        row({
          port: 20007,
          app_port: 20008,
          launcher_state: '{"launcherPid":1,"proxyPid":2,"socket":null}',
        }),
      ],
      async (user) => (await directory.lookup(user)).uid,
      (r) => proxyOnTcp(launcher, r),
    );
    assert.deepEqual(hub, [
      { port: 20008, uid: 1001 },
      { port: 20007, uid: null },
    ]);
  });
});
