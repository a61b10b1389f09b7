import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { startLocalStack, type LocalStack } from '../../helpers/stack.js';
import { waitFor } from '../../helpers/wait.js';

const WS_MODULE = createRequire(import.meta.url).resolve('ws');
const MB = 1024 * 1024;

/** A download of `size` bytes of zeros, written with backpressure; /die exits 7; WebSocket echo. */
const APP = `
import http from 'node:http';
import { createRequire } from 'node:module';
const { WebSocketServer } = createRequire(import.meta.url)(${JSON.stringify(WS_MODULE)});
const chunk = Buffer.alloc(64 * 1024);
const server = http.createServer((req, res) => {
  if (req.url === '/die') { res.end('bye'); console.error('app: fatal: asked to die'); setTimeout(() => process.exit(7), 20); return; }
  const m = /^\\/bytes\\/(\\d+)$/.exec(req.url);
  if (!m) return res.end('ok');
  let left = Number(m[1]);
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': left });
  const pump = () => {
    while (left > 0) {
      const n = Math.min(left, chunk.length);
      left -= n;
      if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return res.once('drain', pump);
    }
    res.end();
  };
  pump();
});
new WebSocketServer({ server }).on('connection', (ws) => ws.on('message', (m) => ws.send('echo:' + m)));
server.listen(Number(process.argv[2]), '127.0.0.1');
`;

function vmHwmKb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]);
}

describe('lifecycle: apps behind CHP and the per-user proxy', function () {
  this.timeout(60000);
  let stack: LocalStack;
  let scripts: string;
  before(async () => {
    scripts = fs.mkdtempSync(path.join(os.tmpdir(), 'hubapps-apps-'));
    fs.writeFileSync(path.join(scripts, 'app.mjs'), APP);
    stack = await startLocalStack({
      apps: {
        big: { title: 'Big', command: [process.execPath, path.join(scripts, 'app.mjs'), '{port}'] },
      },
      config: { reconcile_interval: 0.5 },
    });
    await stack.api('POST', '/users/alice/servers/big', { app: 'big' });
    await waitFor(
      async () => (await stack.api('GET', '/users/alice/servers/big')).body.state === 'running',
      { timeout: 15000, what: 'the app to run' },
    );
  });
  after(async () => {
    await stack?.stop();
    fs.rmSync(scripts, { recursive: true, force: true });
  });

  const auth = () => ({ authorization: `token ${stack.token}` });
  const wsUrl = () => `${stack.chp.proxyUrl.replace('http', 'ws')}/apps/alice/big/`;

  it('echoes WebSocket messages through CHP and the proxy for the public Origin', async () => {
    const ws = new WebSocket(wsUrl(), {
      headers: { ...auth(), origin: new URL(stack.chp.proxyUrl).origin },
    });
    const reply = await new Promise<string>((resolve, reject) => {
      ws.once('open', () => ws.send('hello'));
      ws.once('message', (m) => resolve(String(m)));
      ws.once('error', reject);
    });
    ws.close();
    assert.equal(reply, 'echo:hello');
  });

  it('refuses a WebSocket from a foreign Origin with 403 before the upgrade', async () => {
    const ws = new WebSocket(wsUrl(), { headers: { ...auth(), origin: 'https://evil.example' } });
    const status = await new Promise<number>((resolve) => {
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('open', () => resolve(101));
      ws.once('error', () => resolve(-1));
    });
    assert.equal(status, 403);
  });

  it('streams a 500 MB download without the proxy holding it: its peak RSS stays under 100 MB', async () => {
    const row = stack.service.deps.store.get('alice', 'big')!;
    const res = await stack.viaChp(`/apps/alice/big/bytes/${500 * MB}`, auth());
    assert.equal(res.status, 200);
    let received = 0;
    for await (const chunk of res.body!) received += (chunk as Uint8Array).length;
    assert.equal(received, 500 * MB);
    const peakMb = vmHwmKb(row.proxy_pid!) / 1024;
    assert.ok(peakMb < 100, `proxy peak RSS ${peakMb.toFixed(1)} MB`);
  });

  it('marks a running server whose app exits as failed, with the log tail, and drops its route', async () => {
    await stack.viaChp('/apps/alice/big/die', auth());
    const failed = await waitFor(
      async () => {
        const r = await stack.api('GET', '/users/alice/servers/big');
        return r.body.state === 'failed' ? r.body : undefined;
      },
      { timeout: 10000, what: 'the server to be marked failed' },
    );
    assert.match(failed.reason, /app ended with an error/);
    const logs = await stack.api('GET', '/users/alice/servers/big/logs?tail=20');
    assert.ok(
      logs.body.lines.some((l: string) => l.includes('app: fatal: asked to die')),
      JSON.stringify(logs.body),
    );
    // The state is recorded first and the route removed right after it, so wait for that second step.
    await waitFor(async () => !(await stack.service.deps.routes.list()).has('/apps/alice/big'), {
      timeout: 5000,
      what: "the gone server's route to be removed",
    });
  });
});
