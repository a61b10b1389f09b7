import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo, Server } from 'node:net';
import { ChpRouteTable } from '../../../src/chp/chp-client.js';
import { startChp, type RunningChp } from '../../../src/chp/chp-process.js';
import { HubappsError } from '../../../src/errors.js';

const TOKEN = 'chp-process-test-token';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('startChp', () => {
  const started: RunningChp[] = [];
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((c) => c.stop()));
    for (const s of servers.splice(0)) s.close();
  });

  async function start(opts: Partial<Parameters<typeof startChp>[0]> = {}): Promise<RunningChp> {
    const chp = await startChp({ authToken: TOKEN, ...opts });
    started.push(chp);
    return chp;
  }

  it('runs CHP on loopback with both ports answering', async () => {
    const chp = await start();
    assert.match(chp.proxyUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(chp.apiUrl, `http://127.0.0.1:${chp.apiPort}`);
    const res = await fetch(`${chp.apiUrl}/api/routes`, {
      headers: { Authorization: `token ${TOKEN}` },
    });
    assert.equal(res.status, 200);
    assert.notEqual(chp.port, chp.apiPort);
  });

  it('hands CHP the token through its environment, never on its command line', async () => {
    const chp = await start();
    const cmdline = await readFile(`/proc/${chp.pid}/cmdline`, 'utf8');
    const environ = await readFile(`/proc/${chp.pid}/environ`, 'utf8');
    assert.ok(cmdline.includes('configurable-http-proxy'));
    assert.ok(!cmdline.includes(TOKEN));
    assert.ok(environ.split('\0').includes(`CONFIGPROXY_AUTH_TOKEN=${TOKEN}`));
  });

  it('stop() resolves only once the process is gone', async () => {
    const chp = await start();
    await chp.stop();
    assert.equal(alive(chp.pid), false);
    await chp.stop();
  });

  it('restarts on the same ports with an empty route table that the client can fill again', async () => {
    const first = await start();
    const table = new ChpRouteTable({ apiUrl: first.apiUrl, authToken: TOKEN });
    await table.add('/apps/alice/lab', 'http://127.0.0.1:9', { hubapps: true, kind: 'server' });
    await first.stop();
    await assert.rejects(
      table.list(),
      (e: unknown) => e instanceof HubappsError && e.code === 'chp_unreachable',
    );

    const second = await start({ port: first.port, apiPort: first.apiPort });
    assert.equal(second.apiUrl, first.apiUrl);
    assert.equal((await table.list()).size, 0);
    await table.add('/apps/alice/lab', 'http://127.0.0.1:9', { hubapps: true, kind: 'server' });
    assert.deepEqual([...(await table.list()).keys()], ['/apps/alice/lab']);
  });

  it('fails with chp_port_in_use when a given port is taken, and leaves no process behind', async () => {
    const blocker = createServer();
    servers.push(blocker);
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as AddressInfo).port;
    const before = new Set(await chpPids());
    await assert.rejects(
      startChp({ authToken: TOKEN, port: taken }),
      (e: unknown) => e instanceof HubappsError && e.code === 'chp_port_in_use',
    );
    const leftover = (await chpPids()).filter((pid) => !before.has(pid));
    assert.deepEqual(leftover, []);
  });

  it('fails with chp_port_in_use when the given API port is taken', async () => {
    const blocker = createServer((_req, res) => res.end('{}'));
    servers.push(blocker);
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as AddressInfo).port;
    await assert.rejects(
      startChp({ authToken: TOKEN, apiPort: taken }),
      (e: unknown) => e instanceof HubappsError && e.code === 'chp_port_in_use',
    );
  });

  it('sends unrouted requests to the default target', async () => {
    const fallback = createServer((_req, res) => res.end('fallback'));
    servers.push(fallback);
    await new Promise<void>((resolve) => fallback.listen(0, '127.0.0.1', resolve));
    const chp = await start({
      defaultTarget: `http://127.0.0.1:${(fallback.address() as AddressInfo).port}`,
    });
    assert.equal(await (await fetch(`${chp.proxyUrl}/anything/at/all`)).text(), 'fallback');
  });

  it("passes CHP's output to onOutput", async () => {
    const lines: string[] = [];
    await start({ logLevel: 'info', onOutput: (t) => lines.push(t) });
    assert.match(lines.join(''), /Proxying http:\/\/.*127\.0\.0\.1/);
  });
});

/** Children of this test process running CHP (so only processes this test started). */
async function chpPids(): Promise<number[]> {
  const pids: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = await readFile(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const cmd = await readFile(`/proc/${name}/cmdline`, 'utf8');
      if (ppid === process.pid && cmd.includes('configurable-http-proxy')) pids.push(Number(name));
    } catch {
      // the process exited while we looked
    }
  }
  return pids;
}
