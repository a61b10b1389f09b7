import assert from 'node:assert/strict';
import pino from 'pino';
import { forwardEntries, ForwardGuard } from '../../../src/limits/forward-guard.js';
import type { PortGuard } from '../../../src/limits/port-guard.js';
import type { ForwardEntry } from '../../../src/limits/port-guard-rules.js';
import type { Listener } from '../../../src/procfs/listeners.js';

/** A guard that records forwards and refuses them for the ports in `declined`, as the helper does for a listener not the owner's. */
function fakeGuard() {
  const calls: string[] = [];
  const declined = new Set<number>();
  const guard: PortGuard = {
    allow: async () => undefined,
    revoke: async () => undefined,
    sync: async () => undefined,
    allowForward: async (port, uid) => {
      calls.push(`forward ${port} ${uid}`);
      return !declined.has(port);
    },
    revokeForward: async (port, uid) => void calls.push(`unforward ${port} ${uid}`),
  };
  return { guard, calls, declined };
}

describe('port guard: forwards of users’ own ports (the service side)', () => {
  let wanted: ForwardEntry[];
  let listening: Record<number, Listener[]>;
  let reads = 0;
  const make = (guard: PortGuard) =>
    new ForwardGuard({
      guard,
      wanted: async () => wanted,
      listeners: async () => {
        reads++;
        return new Map(Object.entries(listening).map(([p, l]) => [Number(p), l]));
      },
      uidOf: async (user) => (user === 'alice' ? 1001 : Promise.reject(new Error('no such user'))),
      log: pino({ level: 'silent' }),
    });
  beforeEach(() => {
    wanted = [
      { port: 6006, uid: 1001 },
      { port: 8787, uid: 1001 },
    ];
    listening = { 6006: [{ uid: 1001, inode: '1' }], 8787: [{ uid: 1002, inode: '2' }] };
  });

  it("starts with the open forwards whose listener is the owner's, and guards each once", async () => {
    const g = fakeGuard();
    const fw = make(g.guard);
    assert.deepEqual(await fw.initial(), [{ port: 6006, uid: 1001 }]);
    await fw.open({ port: 6006, uid: 1001 });
    assert.deepEqual(g.calls, [], 'a port held since start-up went to the helper again');
    await fw.open({ port: 7000, uid: 1001 });
    await fw.open({ port: 7000, uid: 1001 });
    assert.deepEqual(g.calls, ['forward 7000 1001']);
  });

  it('asks again after the helper declined, and releases only what it holds', async () => {
    const g = fakeGuard();
    g.declined.add(7000);
    const fw = make(g.guard);
    await fw.open({ port: 7000, uid: 1001 });
    await fw.open({ port: 7000, uid: 1001 });
    await fw.close({ port: 7000, uid: 1001 });
    assert.deepEqual(g.calls, ['forward 7000 1001', 'forward 7000 1001']);
    g.declined.clear();
    await fw.open({ port: 7000, uid: 1001 });
    await fw.close({ port: 7000, uid: 1002 });
    await fw.close({ port: 7000, uid: 1001 });
    assert.deepEqual(g.calls.slice(2), ['forward 7000 1001', 'unforward 7000 1001']);
  });

  it("sweeps: releases a forward no longer open or whose listener changed hands, guards one whose owner's program is back", async () => {
    const g = fakeGuard();
    const fw = make(g.guard);
    await fw.initial();
    await fw.open({ port: 9000, uid: 1003 });
    listening[9000] = [{ uid: 1003, inode: '3' }];
    listening[6006] = [{ uid: 1002, inode: '4' }];
    listening[8787] = [{ uid: 1001, inode: '5' }];
    g.calls.length = 0;
    reads = 0;
    await fw.sweep();
    assert.deepEqual(g.calls, ['unforward 6006 1001', 'unforward 9000 1003', 'forward 8787 1001']);
    assert.equal(reads, 1, 'a sweep read /proc once per forward');
    g.calls.length = 0;
    await fw.sweep();
    assert.deepEqual(g.calls, [], 'a second sweep changed what nothing changed');
    wanted = [];
    await fw.sweep();
    assert.deepEqual(
      g.calls,
      ['unforward 8787 1001'],
      'a forward of a stopped server stayed guarded',
    );
    reads = 0;
    await fw.sweep();
    assert.equal(reads, 0, 'a sweep with no forwards read /proc');
  });

  it('opens and closes by user name, closing nothing for a user who no longer exists', async () => {
    const g = fakeGuard();
    const fw = make(g.guard);
    await fw.openFor('alice', 7000);
    await fw.closeFor('gone', 7000);
    await fw.closeFor('alice', 7000);
    assert.deepEqual(g.calls, ['forward 7000 1001', 'unforward 7000 1001']);
    await assert.rejects(fw.openFor('gone', 7000), /no such user/);
  });

  it('wants one entry per port and owner from the running servers’ forwards, leaving out owners no longer known', async () => {
    const uids: Record<string, number> = { alice: 1001, bob: 1002 };
    const uidOf = async (u: string) => uids[u] ?? Promise.reject(new Error('unknown_user'));
    assert.deepEqual(
      await forwardEntries(
        [
          { user: 'alice', port: 6006 },
          { user: 'alice', port: 6006 },
          { user: 'bob', port: 6006 },
          { user: 'gone', port: 8787 },
        ],
        uidOf,
      ),
      [
        { port: 6006, uid: 1001 },
        { port: 6006, uid: 1002 },
      ],
    );
  });
});
