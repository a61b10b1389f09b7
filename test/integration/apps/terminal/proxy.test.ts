import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '../../../helpers/index.js';
import { TermClient } from '../../../helpers/terminal-client.js';
import { echoApp } from '../../proxy/apps.js';
import {
  Catalog,
  startFakeService,
  startProxy,
  type FakeService,
  type RunningProxy,
} from '../../../unit/proxy/harness.js';

const ORIGIN = 'https://hub.example.org';
const ALICE = { authorization: 'token alice-token', origin: ORIGIN };

/** Does the process have node-pty's native addon mapped? */
const loadsPty = (pid: number) => readFileSync(`/proc/${pid}/maps`, 'utf8').includes('pty.node');

describe('the built-in terminal behind hubapps-proxy (as this user)', function () {
  this.timeout(30_000);
  let catalog: Catalog;
  let service: FakeService;
  let proxy: RunningProxy;
  const socketUrl = (p: RunningProxy, query = 'cols=100&rows=30') =>
    `ws://127.0.0.1:${p.spec.port}${p.spec.prefix}socket?${query}`;
  const clients: TermClient[] = [];
  const connect = async (headers: Record<string, string> = ALICE, ack = true) => {
    const client = await TermClient.open(socketUrl(proxy), { headers, ack });
    clients.push(client);
    return client;
  };

  before(async () => {
    catalog = await Catalog.create();
    service = await startFakeService();
    catalog.app(
      'terminal',
      'title: Terminal\nbuiltin: terminal\nenvironment: {HUBAPPS_TEST_MARK: "{server}"}\n',
    );
    catalog.app('rooted', 'title: Rooted terminal\nbuiltin: terminal\nstrip_prefix: false\n');
    echoApp(catalog, 'echo');
    proxy = await startProxy({ catalog, app: 'terminal', service });
    await proxy.ready();
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });
  after(async () => {
    await proxy.kill();
    await service.close();
    await catalog.remove();
  });

  it('serves the page, xterm.js, its CSS, the fit addon and the page script to a logged-in user', async () => {
    const page = await proxy.get(proxy.spec.prefix, { authorization: 'token alice-token' });
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.match(String(page.headers['content-security-policy']), /default-src 'self'/);
    assert.match(page.body, /<title>Terminal<\/title>/);
    for (const [file, type, marker] of [
      ['xterm.js', 'text/javascript', 'Terminal'],
      ['addon-fit.js', 'text/javascript', 'FitAddon'],
      ['terminal.js', 'text/javascript', "type: 'ack'"],
      ['xterm.css', 'text/css', '.xterm'],
    ]) {
      const asset = await proxy.get(`${proxy.spec.prefix}${file}`, {
        authorization: 'token alice-token',
      });
      assert.equal(asset.status, 200, file);
      assert.ok(
        String(asset.headers['content-type']).startsWith(type!),
        `${file}: ${asset.headers['content-type']}`,
      );
      assert.ok(asset.body.includes(marker!), file);
      const again = await proxy.get(`${proxy.spec.prefix}${file}`, {
        authorization: 'token alice-token',
        'if-none-match': String(asset.headers.etag),
      });
      assert.equal(again.status, 304, `${file} revalidates with its ETag`);
    }
    assert.equal(
      (await proxy.get(`${proxy.spec.prefix}nothing-here`, { authorization: 'token alice-token' }))
        .status,
      404,
    );
  });

  it('runs the login shell of this user in the home directory, with the declared environment', async () => {
    const client = await connect();
    const m = await client.run(
      'echo "in $(pwd) $HUBAPPS_TEST_MARK $TERM" | tr " " :',
      /in:(\S+):(\S+):(\S+)\r\n/,
    );
    assert.deepEqual([m[1], m[2], m[3]], [userInfo().homedir, 'terminal', 'xterm-256color']);
    const shellPid = (await proxy.report()).appPid;
    assert.ok(shellPid !== null, 'the health report names the shell');
    assert.deepEqual(
      readFileSync(`/proc/${shellPid}/cmdline`, 'utf8').split('\0').filter(Boolean),
      [userInfo().shell, '-l'],
    );
  });

  it('refuses a WebSocket without a credential (401), with a foreign token (403) and from a foreign Origin (403)', async () => {
    await assert.rejects(TermClient.open(socketUrl(proxy), { headers: { origin: ORIGIN } }), {
      status: 401,
    });
    await assert.rejects(
      TermClient.open(socketUrl(proxy), {
        headers: { origin: ORIGIN, authorization: 'token bob-token' },
      }),
      { status: 403 },
    );
    await assert.rejects(
      TermClient.open(socketUrl(proxy), {
        headers: { ...ALICE, origin: 'https://evil.example.com' },
      }),
      { status: 403 },
    );
    assert.equal((await proxy.get(proxy.spec.prefix, { accept: 'application/json' })).status, 401);
  });

  it('counts keystrokes and output as activity, even when no other traffic flows', async () => {
    const client = await connect(ALICE, false);
    // While sleep runs with echo off, a keystroke makes no output: only the keystroke itself can count.
    client.type('stty -echo; sleep 2; stty echo; echo quiet-$((1+1))\r');
    await sleep(500);
    const typedAt = Date.now();
    client.type('x');
    await waitFor(async () => Date.parse((await proxy.report()).lastActivity ?? '') >= typedAt, {
      what: 'a keystroke to count as activity',
    });
    await client.expect(/quiet-2/);
    client.type('\x15');
    const askedAt = Date.now();
    client.type('sleep 1; echo late-$((2+2))\r');
    await client.expect(/late-4\r\n/);
    const last = Date.parse((await proxy.report()).lastActivity ?? '');
    assert.ok(
      last >= askedAt + 900,
      `output one second after the keystroke must count: last activity ${last - askedAt} ms after it`,
    );
  });

  it('loads node-pty in a terminal proxy only', async () => {
    assert.ok(loadsPty(proxy.child.pid!));
    const other = await startProxy({ catalog, app: 'echo', service });
    try {
      await other.ready();
      assert.equal(loadsPty(other.child.pid!), false);
    } finally {
      await other.kill();
    }
  });

  it('serves a terminal whose app file keeps the prefix (strip_prefix: false)', async () => {
    const rooted = await startProxy({ catalog, app: 'rooted', service });
    try {
      await rooted.ready();
      assert.equal(
        (await rooted.get(`${rooted.spec.prefix}xterm.css`, { authorization: 'token alice-token' }))
          .status,
        200,
      );
      const client = await TermClient.open(socketUrl(rooted), { headers: ALICE });
      clients.push(client);
      await client.run('echo rooted-$((3+4))', /rooted-7/);
    } finally {
      await rooted.kill();
    }
  });

  it('ends the proxy with exit code 0 when the shell exits, so the server counts as stopped', async () => {
    const client = await connect();
    client.type('exit 7\r');
    assert.deepEqual(await proxy.exited, { code: 0, signal: null });
    assert.deepEqual(client.controls.at(-1), { type: 'exit', code: 7, signal: null });
    await assert.rejects(proxy.health(), /ECONNREFUSED/);
  });
});
