import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../helpers/ports.js';
import { rawRequest } from '../../helpers/stack.js';
import { waitFor } from '../../helpers/wait.js';

const DEMO = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../src/demo/main.js',
);

describe('npm run demo: per-server origins out of the box', function () {
  this.timeout(60000);
  let demo: ChildProcess;
  let out = '';
  let exited: Promise<number | null>;
  before(async () => {
    const [port, appsPort] = [await freePort(), await freePort()];
    demo = spawn(
      process.execPath,
      [DEMO, '--port', String(port), '--apps-port', String(appsPort)],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    exited = new Promise((resolve) => demo.once('exit', (code) => resolve(code)));
    demo.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    demo.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    await waitFor(() => out.includes('Press Ctrl-C'), {
      timeout: 30000,
      what: `the demo to print its URLs (so far: ${out})`,
    });
  });
  after(async () => {
    if (demo.exitCode === null) demo.kill('SIGINT');
    await exited;
  });

  it('prints a server URL on its own *.apps.localhost host that works once the printed curl has started it', async () => {
    const token = /API token: (\S+)/.exec(out)![1]!;
    const api = /API:\s+(\S+)/.exec(out)![1]!;
    const hello = new URL(/^\s+open (\S+)$/m.exec(out)![1]!);
    assert.match(hello.hostname, /^hello--[a-z0-9-]+\.apps\.localhost$/);
    const user = /users\/([^/]+)\/servers\/hello/.exec(out)![1]!;
    const started = await fetch(`${api}/users/${user}/servers/hello`, {
      method: 'POST',
      headers: { authorization: `token ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ app: 'hello' }),
    });
    assert.equal(started.status, 202);
    // Node cannot resolve *.localhost: connect by address and send the Host a browser would.
    const page = await waitFor(
      async () => {
        const res = await rawRequest(Number(hello.port), hello.host, '/', {
          headers: { authorization: `token ${token}` },
        });
        return res.status === 200 ? res : undefined;
      },
      { timeout: 20000, what: 'the demo app to answer on its own host' },
    );
    assert.match(page.body, /Hello from hubapps/);
  });

  it('stops everything on Ctrl-C and exits 0', async () => {
    demo.kill('SIGINT');
    assert.equal(await exited, 0, `the demo's output:\n${out.split('\n').slice(-15).join('\n')}`);
  });
});
