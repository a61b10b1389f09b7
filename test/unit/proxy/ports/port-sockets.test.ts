import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { PortSockets } from '../../../../src/proxy/ports/port-sockets.js';
import type { Refusal } from '../../../../src/proxy/ports/policy.js';

describe('open WebSockets to a user port, asked about again', () => {
  it("closes a visitor's connections once the service says no, and keeps the owner's", async () => {
    const answers: Record<string, Refusal | null> = { alice: null, bob: null };
    const asked: string[] = [];
    const sockets = new PortSockets(
      {
        check: (user) => {
          asked.push(user);
          return answers[user]!;
        },
      },
      60_000,
    );
    const alice = new PassThrough();
    const bob1 = new PassThrough();
    const bob2 = new PassThrough();
    sockets.track(alice, { user: 'alice', port: 8787, kind: 'server' });
    sockets.track(bob1, { user: 'bob', port: 8787, kind: 'server' });
    sockets.track(bob2, { user: 'bob', port: 8787, kind: 'server' });
    await sockets.sweep();
    assert.equal(alice.destroyed || bob1.destroyed || bob2.destroyed, false);
    answers.bob = { status: 403, message: 'alice no longer shares port 8787' };
    asked.length = 0;
    await sockets.sweep();
    assert.deepEqual(asked.sort(), ['alice', 'bob'], 'one question per user and port');
    assert.equal(bob1.destroyed && bob2.destroyed, true);
    assert.equal(alice.destroyed, false);
    alice.destroy();
  });

  it('closes nothing while the service cannot be asked (503)', async () => {
    const sockets = new PortSockets(
      { check: () => ({ status: 503, message: 'the service does not answer' }) },
      60_000,
    );
    const s = new PassThrough();
    sockets.track(s, { user: 'bob', port: 8787, kind: 'server' });
    await sockets.sweep();
    assert.equal(s.destroyed, false);
    s.destroy();
  });
});
