import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import {
  ListenerOwners,
  listenerOwnedBy,
  listensOn,
  loopbackListeners,
} from '../../../src/procfs/listeners.js';
import { freePort } from '../../helpers/ports.js';

const listen = (host: string, port = 0) =>
  new Promise<Server>((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen({ host, port }, () => resolve(s));
  });
const close = (s: Server) => new Promise<void>((r) => s.close(() => r()));
const portOf = (s: Server) => (s.address() as { port: number }).port;

describe('who listens on a loopback port, from /proc/net/tcp and tcp6', () => {
  const me = process.getuid!();

  it('finds a 127.0.0.1 listener with its owner uid, held by this process', async () => {
    const s = await listen('127.0.0.1');
    try {
      const found = await loopbackListeners(portOf(s));
      assert.equal(found.length, 1);
      assert.equal(found[0]!.uid, me);
      assert.equal(await listenerOwnedBy(portOf(s), me), true);
      assert.equal(await listenerOwnedBy(portOf(s), me + 1), false);
      assert.equal(await listensOn(process.pid, portOf(s)), true);
    } finally {
      await close(s);
    }
  });

  it('counts a wildcard IPv6 listener, which also receives connections to 127.0.0.1', async () => {
    const s = await listen('::');
    try {
      assert.deepEqual(
        (await loopbackListeners(portOf(s))).map((l) => l.uid),
        [me],
      );
    } finally {
      await close(s);
    }
  });

  it('finds nobody on a free port, and a free port is owned by nobody', async () => {
    const port = await freePort();
    assert.deepEqual(await loopbackListeners(port), []);
    assert.equal(await listenerOwnedBy(port, me), false);
  });

  it('shares one reading between calls within its age, and reads again after it', async () => {
    let now = 0;
    const owners = new ListenerOwners(100, () => now);
    const port = await freePort();
    assert.equal(await owners.ownedBy(port, me), false);
    const s = await listen('127.0.0.1', port);
    try {
      assert.equal(await owners.ownedBy(port, me), false, 'a fresh reading within the age');
      now += 101;
      assert.equal(await owners.ownedBy(port, me), true);
      assert.equal(await owners.ownedBy(port, me + 1), false);
    } finally {
      await close(s);
    }
  });
});
