import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PROOF_HEADER, proveAnswer } from '../../../src/protocol/challenge.js';
import type { HealthReport } from '../../../src/protocol/wire.js';
import { fetchHealth, MAX_ANSWER, requestShutdown } from '../../../src/launchers/proxy-client.js';
import { LocalLauncher } from '../../../src/launchers/local-launcher.js';

const SECRET = 'the-servers-secret-0123456789abcdef';
const me = process.getuid!();

const report: HealthReport = {
  serverId: 7,
  state: 'ready',
  pid: process.pid,
  appPid: null,
  appTarget: { port: 1 },
  startedAt: new Date().toISOString(),
  readyAt: new Date().toISOString(),
  lastActivity: null,
  progress: [],
  exit: null,
};

/** A program on the port that is not the server's proxy: it records what it was sent and answers like a healthy proxy would. */
async function squatter(
  answer: (req: IncomingMessage) => {
    body: Buffer | string;
    headers?: Record<string, string>;
  } = () => ({ body: JSON.stringify(report) }),
) {
  const seen: IncomingMessage[] = [];
  const server: Server = createServer((req, res) => {
    seen.push(req);
    const a = answer(req);
    res.writeHead(200, { 'content-type': 'application/json', ...a.headers });
    res.end(a.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    seen,
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('the service talks only to the real proxy of a server', () => {
  it("sends nothing to a port whose listener belongs to another uid than the server's user", async () => {
    const s = await squatter();
    try {
      const health = await fetchHealth({
        port: s.port,
        secret: SECRET,
        uid: me + 1,
        listener: 'local',
      });
      assert.equal(health.ok, false);
      assert.match(health.ok ? '' : health.error, new RegExp(`does not belong to uid ${me + 1}`));
      assert.equal(
        (await requestShutdown({ port: s.port, secret: SECRET, uid: me + 1, listener: 'local' }))
          .ok,
        false,
      );
      assert.equal(s.seen.length, 0, 'the squatter was contacted');
    } finally {
      await s.close();
    }
  });

  it("never puts the secret on the wire, and trusts no answer without the proxy's proof", async () => {
    const s = await squatter();
    try {
      const health = await fetchHealth({
        port: s.port,
        secret: SECRET,
        uid: me,
        listener: 'local',
      });
      assert.equal(health.ok, false, 'a healthy-looking answer without proof was trusted');
      assert.match(health.ok ? '' : health.error, /no valid proof/);
      assert.equal(s.seen.length, 1);
      const sent = JSON.stringify(s.seen[0]!.headers) + s.seen[0]!.url;
      assert.ok(!sent.includes(SECRET), 'the secret reached the listener');
      assert.match(
        s.seen[0]!.headers.authorization ?? '',
        /^HubappsHMAC ts=\d+, nonce=[0-9a-f]{32}, mac=[0-9a-f]{64}$/,
      );
    } finally {
      await s.close();
    }
  });

  it('refuses a proof replayed from another call, and accepts the one made for this call', async () => {
    let lastProof = '';
    const s = await squatter((req) => {
      const nonce = /nonce=([0-9a-f]+)/.exec(req.headers.authorization ?? '')![1]!;
      const body = Buffer.from(JSON.stringify(report));
      // Stands in for the real proxy (it knows the secret), but after the first call replays its first proof.
      const proof = lastProof || proveAnswer(SECRET, nonce, 200, body);
      lastProof = proof;
      return { body, headers: { [PROOF_HEADER]: proof } };
    });
    try {
      const first = await fetchHealth({ port: s.port, secret: SECRET, uid: me, listener: 'local' });
      assert.equal(first.ok, true);
      assert.equal(first.ok && first.body.serverId, 7);
      const replayed = await fetchHealth({
        port: s.port,
        secret: SECRET,
        uid: me,
        listener: 'local',
      });
      assert.equal(replayed.ok, false);
    } finally {
      await s.close();
    }
  });

  it('stops reading an answer past its size cap', async () => {
    const s = await squatter(() => ({ body: Buffer.alloc(MAX_ANSWER * 8, 0x20) }));
    try {
      const health = await fetchHealth({
        port: s.port,
        secret: SECRET,
        uid: me,
        listener: 'local',
      });
      assert.equal(health.ok, false);
      assert.match(health.ok ? '' : health.error, /larger than/);
    } finally {
      await s.close();
    }
  });

  it('reports a squatted port as not answering, so a start never turns ready and gets no route', async () => {
    const s = await squatter();
    try {
      const launcher = new LocalLauncher('/nonexistent', '/nonexistent');
      const probe = await launcher
        .restore({ serverId: 7, user: 'alice', port: s.port, secret: SECRET, kind: 'local' }, null)
        .probe();
      assert.equal(probe.answering, false);
      assert.equal(probe.report, undefined);
      assert.equal(probe.launched, false);
    } finally {
      await s.close();
    }
  });
});
