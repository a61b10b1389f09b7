import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { acceptedBy } from '../../../src/procfs/connections.js';

const listen = (host: string) =>
  new Promise<Server>((resolve) => {
    const s = createServer(() => undefined);
    s.listen({ host, port: 0 }, () => resolve(s));
  });
const open = (port: number) =>
  new Promise<Socket>((resolve, reject) => {
    const c = connect({ host: '127.0.0.1', port }, () => resolve(c));
    c.once('error', reject);
  });

describe('who accepted a loopback connection, from /proc/net/tcp and tcp6', () => {
  for (const host of ['127.0.0.1', '::']) {
    it(`names the uid of a ${host} listener that accepted our connection`, async () => {
      const s = await listen(host);
      const port = (s.address() as { port: number }).port;
      const c = await open(port);
      try {
        assert.equal(acceptedBy(port, c.localPort!), process.getuid!());
        assert.equal(acceptedBy(port, c.localPort! === 65535 ? 1 : c.localPort! + 1), null);
      } finally {
        c.destroy();
        s.close();
      }
    });
  }
});
