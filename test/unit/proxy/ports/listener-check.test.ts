import assert from 'node:assert/strict';
import { checkListener, type ListenerFacts } from '../../../../src/proxy/ports/listener-check.js';
import type { Listener } from '../../../../src/procfs/listeners.js';

const ALICE = { owner: 'alice', server: 'term', uid: 1001 };

function facts(listeners: Listener[], serverPids: number[], held: Record<number, string[]>) {
  return {
    listeners: () => Promise.resolve(listeners),
    serverPids: () => serverPids,
    held: (inodes: ReadonlySet<string>, pids: readonly number[]) =>
      pids.some((p) => (held[p] ?? []).some((i) => inodes.has(i))),
  } satisfies ListenerFacts;
}

describe('whose program listens on a user port', () => {
  it("lets a port through that the server's own process holds", async () => {
    const f = facts([{ uid: 1001, inode: '55' }], [300], { 300: ['55'] });
    assert.equal(await checkListener(8787, 'server', ALICE, f), null);
  });

  it('says nothing listens any more when the port is free (404)', async () => {
    const r = await checkListener(8787, 'server', ALICE, facts([], [300], {}));
    assert.deepEqual(r, {
      status: 404,
      message: "nothing listens on port 8787 in alice's server 'term' any more",
    });
  });

  it('refuses a port with any listener of another account (403), even next to the owner’s', async () => {
    const f = facts(
      [
        { uid: 1001, inode: '55' },
        { uid: 1002, inode: '56' },
      ],
      [300],
      { 300: ['55'] },
    );
    assert.deepEqual(await checkListener(8787, 'server', ALICE, f), {
      status: 403,
      message: 'port 8787 is held by another account',
    });
  });

  it('refuses a server port the owner opened outside this server, pointing at host-ports', async () => {
    const f = facts([{ uid: 1001, inode: '55' }], [300], { 300: ['99'] });
    const r = await checkListener(8787, 'server', ALICE, f);
    assert.equal(r?.status, 404);
    assert.match(r!.message, /host-ports\/8787\//);
  });

  it("lets a host port through when the owner's uid holds it, from any process", async () => {
    const f = facts([{ uid: 1001, inode: '55' }], [], {});
    assert.equal(await checkListener(5000, 'host', ALICE, f), null);
  });
});
