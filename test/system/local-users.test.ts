/**
 * Another local account on the host (mallory: a real Unix user outside the allowed group)
 * attacks alice's servers from the shell, where a browser cannot: her proxy's socket, a stop
 * or crash race for the proxy's address, the runtime directory, the port range.
 * docs/security.md, "Local users", lists each defence with the test here.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { requireRootOrSkip } from '../helpers/index.js';
import { freePort } from '../helpers/ports.js';
import { waitFor } from '../helpers/wait.js';
import { TEST_USERS, run } from './harness.js';
import { bindAs, connectAs, listenAs } from './harness-guard.js';
import { hostDirsFor } from './harness-state.js';
import { proxySocketOf as socketOf, SystemStack } from './system-stack.js';

const { alice, mallory } = TEST_USERS;
const TERMINAL = { title: 'Terminal', builtin: 'terminal' };

/** Run a Node script as mallory and wait for its JSON answer on stdout. */
async function asMallory<T>(script: string, ...args: string[]): Promise<T> {
  const r = await run(
    'sudo',
    ['-n', '-u', mallory, '--', process.execPath, '-e', script, ...args],
    { timeoutMs: 60_000 },
  );
  assert.equal(r.code, 0, `mallory's script failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** Start a Node script as mallory in the background; its stdout is collected. */
function malloryInBackground(
  script: string,
  ...args: string[]
): { child: ChildProcess; sofar: () => string; output: () => Promise<string> } {
  const child = spawn(
    'sudo',
    ['-n', '-u', mallory, '--', process.execPath, '-e', script, ...args],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString('utf8')));
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  return { child, sofar: () => out, output: async () => (await closed, out) };
}

/** What mallory can do to a path: connect to it, list its directory, remove it, bind it. */
const PROBE = String.raw`
const net = require('net'), fs = require('fs'), path = require('path');
const [sock] = process.argv.slice(1);
const tryIt = (f) => { try { f(); return 'ok'; } catch (e) { return e.code; } };
const c = net.connect(sock);
c.on('connect', () => done('connected'));
c.on('error', (e) => done(e.code));
function done(connect) {
  c.destroy();
  const list = tryIt(() => fs.readdirSync(path.dirname(sock)));
  const remove = tryIt(() => fs.unlinkSync(sock));
  const s = net.createServer();
  s.on('error', (e) => finish(e.code));
  s.listen(sock, () => { s.close(); finish('bound'); });
  function finish(bind) { console.log(JSON.stringify({ connect, list, remove, bind })); }
}`;

/**
 * Binds `sock` as soon as the path is free, for `ms`, and reports every byte anyone sent
 * it: the loop a local account would run to catch a stopping proxy's address.
 */
const SQUAT = String.raw`
const net = require('net');
const [sock, ms] = process.argv.slice(1);
const got = []; let bound = false, attempts = 0;
const end = Date.now() + Number(ms);
(function attempt() {
  if (Date.now() > end) return report();
  attempts++;
  const s = net.createServer((c) => c.on('data', (d) => got.push(d.toString('latin1'))));
  s.once('error', () => setTimeout(attempt, 1));
  s.listen(sock, () => { bound = true; setTimeout(() => { s.close(); report(); }, Math.max(0, end - Date.now())); });
})();
function report() { console.log(JSON.stringify({ bound, attempts, received: got.join('') })); process.exit(0); }`;

/**
 * Tries once to listen on every port in [min, max], on 127.0.0.1 and on ::1, prints what
 * each try got ('bound' or the error's code) as one JSON line, and holds what it bound
 * until killed: a local account taking the range so that starts fail.
 */
const HOLD_PORTS = String.raw`
const net = require('net');
const [min, max] = process.argv.slice(1).map(Number);
const tries = [];
for (let p = min; p <= max; p++) for (const host of ['127.0.0.1', '::1']) tries.push([p, host]);
Promise.all(tries.map(([p, host]) => new Promise((done) => {
  const s = net.createServer();
  s.once('error', (e) => done([p + '@' + host, e.code]));
  s.listen({ port: p, host, exclusive: true }, () => done([p + '@' + host, 'bound']));
}))).then((r) => console.log(JSON.stringify(Object.fromEntries(r))));`;

const SPAWNER_ENV = 'HUBAPPS_T_SPAWNER_TOKEN';
const SPAWNER_TOKEN = randomBytes(24).toString('base64url');

describe("system: another local account attacks alice's servers from the shell (real sudo, real users)", function () {
  this.timeout(120_000);
  let stack: SystemStack;
  let portMin = 0;

  before(async function () {
    requireRootOrSkip(this);
    portMin = await freePort();
    stack = new SystemStack({
      apps: { terminal: TERMINAL },
      config: {
        port_range: { min: portMin, max: portMin + 1 },
        jupyterhub: { spawner_token: `env:${SPAWNER_ENV}` },
      },
      serviceEnv: { [SPAWNER_ENV]: SPAWNER_TOKEN },
      portGuard: true,
    });
    await stack.setUp();
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed') stack.reportFailure(this.currentTest.fullTitle());
  });
  after(async () => stack?.tearDown());

  const requestsWithToken = async (name: string, untilMs: number) => {
    const statuses: number[] = [];
    while (Date.now() < untilMs) {
      const res = await stack
        .viaChp(`/apps/${alice}/${name}/`, { authorization: `token ${stack.adminToken}` })
        .catch(() => null);
      if (res) {
        statuses.push(res.status);
        await res.arrayBuffer();
      }
    }
    return statuses;
  };

  it("cannot connect to alice's proxy, list the socket directory, remove her socket or bind its path", async () => {
    const row = await stack.startServer(alice, 'web', 'web');
    const sock = socketOf(row);
    const st = lstatSync(sock);
    assert.equal(st.mode & 0o777, 0o660);
    const seen = await asMallory<Record<string, string>>(PROBE, sock);
    // EPERM: the sticky bit (only the owner may remove a file there); EADDRINUSE: the path is alice's.
    assert.deepEqual(seen, {
      connect: 'EACCES',
      list: 'EACCES',
      remove: 'EPERM',
      bind: 'EADDRINUSE',
    });
    // The same probe would notice an open socket: it is the mode that keeps mallory out.
    chmodSync(sock, 0o666);
    try {
      assert.equal((await asMallory<{ connect: string }>(PROBE, sock)).connect, 'connected');
    } finally {
      chmodSync(sock, 0o660);
    }
    const res = await stack.viaChp(`/apps/${alice}/web/`, {
      authorization: `token ${stack.adminToken}`,
    });
    assert.equal(res.status, 200, "CHP, in the socket directory's group, still reaches the proxy");
    await stack.api('DELETE', `/users/${alice}/servers/web`);
  });

  it("cannot connect to alice's app on its loopback {port}, which her proxy and her own programs still reach (the port guard)", async () => {
    const row = await stack.startServer(alice, 'files', 'web');
    const port = String(row.port);
    const uid = (await run('id', ['-u', alice])).stdout.trim();
    assert.equal(
      await connectAs(mallory, port),
      'ECONNREFUSED',
      "mallory reached alice's http.server, which lists her home",
    );
    assert.equal(await connectAs(alice, port), 'connected', "alice's own programs reach her app");
    const res = await stack.viaChp(`/apps/${alice}/files/`, {
      authorization: `token ${stack.adminToken}`,
    });
    assert.equal(res.status, 200, 'the proxy, running as alice, reaches the app');
    await res.body?.cancel();
    // Without the guard's table the same probe gets in: the guard is what keeps mallory out.
    assert.equal((await stack.portGuard('remove')).code, 0);
    try {
      assert.equal(await connectAs(mallory, port), 'connected');
    } finally {
      assert.equal((await stack.portGuard('sync', `${port}:${uid}`)).code, 0);
    }
    assert.equal(await connectAs(mallory, port), 'ECONNREFUSED');
    // The bind guard is checked before the port's use: alice's app holds it, mallory is refused first.
    assert.equal(await bindAs(mallory, port), 'EPERM');
    assert.equal(await bindAs(alice, port), 'EADDRINUSE');
    // A port of port_range that no server holds is closed to everyone, the owner's pair revoked included.
    assert.equal((await stack.portGuard('revoke', port, uid)).code, 0);
    assert.equal(await connectAs(alice, port), 'ECONNREFUSED');
    assert.equal(await bindAs(alice, port), 'EPERM');
    assert.equal((await stack.portGuard('allow', port, uid)).code, 0);
    assert.equal(await bindAs(alice, port), 'EADDRINUSE');
    await stack.api('DELETE', `/users/${alice}/servers/files`);
    assert.doesNotMatch(
      (await stack.portGuard('show')).stdout,
      new RegExp(`${port} \\. ${uid}`),
      'the pair outlived its server',
    );
  });

  it("reaches the TCP proxy of a server JupyterHub started, as the hub's CHP must, but cannot bind its port (open/close)", async () => {
    // A listener of alice's on a port of port_range stands in for the proxy the hub routes to.
    const row = await stack.startServer(alice, 'hubproxy', 'web');
    const port = String(row.port);
    const uid = (await run('id', ['-u', alice])).stdout.trim();
    assert.equal(await connectAs(mallory, port), 'ECONNREFUSED', 'guarded as an app port first');
    assert.equal((await stack.portGuard('revoke', port, uid)).code, 0);
    assert.equal((await stack.portGuard('open', port, uid)).code, 0);
    try {
      assert.equal(await connectAs(mallory, port), 'connected', 'an open port takes every account');
      assert.equal(await connectAs(alice, port), 'connected');
      assert.equal(await bindAs(mallory, port), 'EPERM', 'but only its owner binds it');
      assert.equal(await bindAs(alice, port), 'EADDRINUSE');
    } finally {
      assert.equal((await stack.portGuard('close', port, uid)).code, 0);
    }
    assert.equal(await connectAs(mallory, port), 'ECONNREFUSED', 'closed again');
    assert.equal(await bindAs(mallory, port), 'EPERM');
    assert.doesNotMatch(
      (await stack.portGuard('show')).stdout,
      new RegExp(`open[^}]*\\b${port}\\b`),
    );
    assert.equal((await stack.portGuard('allow', port, uid)).code, 0);
    await stack.api('DELETE', `/users/${alice}/servers/hubproxy`);
  });

  it("reaches a hub-started server's proxy on TCP (run as alice by sudo) but never its app, whose port stays alice's; both released at stop", async () => {
    const prefix = `/user/${alice}/hub/`;
    const started = await stack.api(
      'POST',
      `/hub/users/${alice}/servers/hub`,
      {
        app: 'web',
        hub: {
          server: 'hub',
          prefix,
          api_url: 'http://127.0.0.1:1/hub/api/',
          authorize_path: '/hub/api/oauth2/authorize',
          api_token: 'hub-token',
          client_id: `jupyterhub-user-${alice}-hub`,
          callback_path: `${prefix}oauth_callback`,
          access_scopes: [`access:servers!server=${alice}/hub`],
        },
      },
      SPAWNER_TOKEN,
    );
    assert.equal(started.status, 202, JSON.stringify(started.body));
    const row = await stack.waitState(alice, 'hub', ['running']);
    const proxyPort = String(row.port);
    const appPort = String(row.app_port);
    assert.ok(row.app_port && row.port !== row.app_port, `ports ${proxyPort} ${appPort}`);
    assert.equal(
      (await run('ps', ['-o', 'user=', '-p', String(row.proxy_pid)])).stdout.trim(),
      alice,
      'the proxy runs as alice',
    );
    assert.equal(
      await connectAs(mallory, proxyPort),
      'connected',
      "the hub's CHP reaches the proxy",
    );
    assert.equal(await connectAs(mallory, appPort), 'ECONNREFUSED', "mallory reached alice's app");
    assert.equal(await connectAs(alice, appPort), 'connected');
    assert.equal(await bindAs(mallory, proxyPort), 'EPERM');
    const answer = await fetch(`http://127.0.0.1:${proxyPort}${prefix}`, { redirect: 'manual' });
    assert.ok([302, 401, 403].includes(answer.status), `the proxy answered ${answer.status}`);
    await answer.body?.cancel();
    // The guard's table and the bind guard's pairs, while it runs and after it stopped.
    const uid = (await run('id', ['-u', alice])).stdout.trim();
    const held = {
      'the app pair': new RegExp(`${appPort} \\. ${uid}`),
      'the open proxy port': new RegExp(`set open \\{[^}]*elements = \\{[^}]*\\b${proxyPort}\\b`),
      'the proxy port bind pair': new RegExp(`^${proxyPort} ${uid}$`, 'm'),
    };
    const live = (await stack.portGuard('show')).stdout;
    for (const [what, re] of Object.entries(held)) assert.match(live, re, `${what} is missing`);
    const stopped = await stack.api(
      'DELETE',
      `/hub/users/${alice}/servers/hub`,
      undefined,
      SPAWNER_TOKEN,
    );
    assert.equal(stopped.body.state, 'stopped', JSON.stringify(stopped.body));
    const after = (await stack.portGuard('show')).stdout;
    for (const [what, re] of Object.entries(held))
      assert.doesNotMatch(after, re, `${what} outlived its server`);
    assert.equal(await connectAs(mallory, proxyPort), 'ECONNREFUSED');
  });

  it("cannot connect to alice's own program while her forward of it is open; the helper guards only her own listener, inside user_ports.ranges (issue 26)", async () => {
    const port = String(await freePort());
    const [aliceUid, malloryUid, svcUid] = await Promise.all(
      [alice, mallory, TEST_USERS.svc].map(async (u) => (await run('id', ['-u', u])).stdout.trim()),
    );
    const program = await listenAs(alice, port);
    try {
      assert.equal(
        await connectAs(mallory, port),
        'connected',
        'without a forward the port is open, as any program of hers',
      );
      const given = await stack.portGuard('forward', port, aliceUid);
      assert.equal(given.code, 0, given.stderr);
      assert.equal(
        await connectAs(mallory, port),
        'ECONNREFUSED',
        "mallory reached alice's forwarded program",
      );
      assert.equal(
        await connectAs(alice, port),
        'connected',
        'alice (and her proxy) no longer reach it',
      );
      // A service taken over cannot hand alice's program to mallory, nor guard ports root did not allow.
      const stolen = await stack.portGuard('forward', port, malloryUid);
      assert.equal(stolen.code, 4);
      assert.match(
        stolen.stderr,
        new RegExp(`port ${port} has a listener of another uid than ${malloryUid}`),
      );
      for (const [p, uid, why] of [
        ['22', aliceUid, /port 22 is not in user_ports\.ranges/],
        [String(portMin), aliceUid, /is in port_range/],
        [port, svcUid, /a system account's/],
      ] as const) {
        const r = await stack.portGuard('forward', p, uid);
        assert.equal(r.code, 2, `forward ${p} ${uid}: ${r.stderr}`);
        assert.match(r.stderr, why);
      }
      assert.equal((await stack.portGuard('unforward', port, aliceUid)).code, 0);
      assert.equal(
        await connectAs(mallory, port),
        'connected',
        'the port stayed guarded after its forward ended',
      );
      assert.equal((await stack.portGuard('forward', port, aliceUid)).code, 0);
    } finally {
      await program.stop();
    }
    // Her program ended: the next account to listen there is not locked out of its own port by a sync.
    const next = await listenAs(mallory, port);
    try {
      const synced = await stack.portGuard('sync', `fwd:${port}:${aliceUid}`);
      assert.equal(synced.code, 0, synced.stderr);
      assert.match(synced.stdout, new RegExp(`left out fwd:${port}:${aliceUid}`));
      assert.equal(await connectAs(mallory, port), 'connected');
    } finally {
      await next.stop();
      // Put back what the service holds: the app ports of running servers.
      await stack.service!.stop();
      await stack.startService();
    }
  });

  it('gets the guard back from a restarted service, whatever happened to the table meanwhile', async () => {
    const row = await stack.startServer(alice, 'files2', 'web');
    const uid = (await run('id', ['-u', alice])).stdout.trim();
    assert.equal((await stack.portGuard('remove')).code, 0);
    await stack.service!.stop();
    await stack.startService();
    assert.match((await stack.portGuard('show')).stdout, new RegExp(`${row.port} \\. ${uid}`));
    assert.equal(await connectAs(mallory, row.port!), 'ECONNREFUSED');
    await stack.api('DELETE', `/users/${alice}/servers/files2`);
  });

  it("refuses the helper's operations on ports outside port_range and a second --config, whoever asks", async () => {
    const outside = String(portMin + 2);
    const r = await stack.portGuard('allow', outside, '0');
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(`port '${outside}' is not in port_range`));
    const again = await stack.portGuard('--config', '/etc/hostname', 'show');
    assert.equal(again.code, 2);
    assert.match(again.stderr, /--config must be given exactly once/);
  });

  it("receives nothing when racing a stop for the proxy's address, while the owner's client keeps sending its token", async () => {
    const row = await stack.startServer(alice, 'race', 'web');
    const squat = malloryInBackground(SQUAT, socketOf(row), '4000');
    const traffic = requestsWithToken('race', Date.now() + 3500);
    await sleep(500);
    const stopped = await stack.api('DELETE', `/users/${alice}/servers/race`);
    assert.equal(stopped.body.state, 'stopped', stopped.body.reason);
    const statuses = await traffic;
    const seen = JSON.parse(await squat.output()) as {
      bound: boolean;
      attempts: number;
      received: string;
    };
    assert.ok(statuses.includes(200), "the owner's requests reached the server before the stop");
    assert.ok(seen.attempts > 10, 'mallory kept trying to bind the address');
    assert.equal(seen.received, '', "a request reached mallory's listener");
  });

  it('receives nothing when racing a crash: a proxy whose app died keeps its socket file until the service removed the route', async () => {
    const row = await stack.startServer(alice, 'crash', 'web');
    const sock = socketOf(row);
    // A restarted service re-adopts the server: it learns of the crash only at its next reconcile pass.
    await stack.service!.stop();
    await stack.startService();
    const squat = malloryInBackground(SQUAT, sock, '6000');
    const traffic = requestsWithToken('crash', Date.now() + 5500);
    await sleep(500);
    const appPid = await waitFor(() => stack.row(alice, 'crash')!.app_pid, {
      timeout: 10_000,
      what: "the app's pid",
    });
    process.kill(appPid, 'SIGKILL');
    await stack.waitState(alice, 'crash', ['failed', 'stopped']);
    const statuses = await traffic;
    const seen = JSON.parse(await squat.output()) as {
      bound: boolean;
      attempts: number;
      received: string;
    };
    assert.ok(statuses.includes(200));
    assert.equal(seen.received, '', "a request reached mallory's listener");
    assert.equal((await stack.routes())[`/apps/${alice}/crash`], undefined);
  });

  it("cannot squat alice's runtime directory: not in /tmp, not under a name mallory can make first", async () => {
    const uid = Number((await run('id', ['-u', alice])).stdout);
    const runtime = hostDirsFor(stack.stateDir).runtime_dir;
    const planted = await asMallory<{ made: number; list: string }>(
      String.raw`
      const fs = require('fs'); const [dir, uid] = process.argv.slice(1);
      let made = 0;
      try { fs.mkdirSync('/tmp/hubapps-' + uid, { mode: 0o777 }); made++; } catch {}
      for (let i = 0; i < 20; i++) { try { fs.mkdirSync(dir + '/' + uid + '-' + Math.random().toString(36).slice(2, 8), { mode: 0o777 }); made++; } catch {} }
      let list; try { fs.readdirSync(dir); list = 'ok'; } catch (e) { list = e.code; }
      console.log(JSON.stringify({ made, list }));`,
      runtime,
      String(uid),
    );
    assert.ok(planted.made > 0, 'mallory could plant nothing: the test did not attack');
    assert.equal(planted.list, 'EACCES');
    await stack.startServer(alice, 'term', 'terminal');
    const own = readdirSync(runtime)
      .map((n) => join(runtime, n))
      .filter((p) => lstatSync(p).uid === uid);
    assert.equal(own.length, 1, "alice's terminal has one runtime directory of its own");
    assert.equal(lstatSync(own[0]!).mode & 0o777, 0o700);
    const res = await stack.api('DELETE', `/users/${alice}/servers/term`);
    assert.equal(res.body.state, 'stopped', res.body.reason);
    assert.equal(
      readdirSync(runtime).some((n) => n === own[0]!.slice(runtime.length + 1)),
      false,
      'the runtime directory goes with the server',
    );
  });

  it('cannot make starts fail by holding the ports of port_range: binding them is refused to everyone but their owner (the bind guard)', async () => {
    const hold = async () => {
      const holder = malloryInBackground(HOLD_PORTS, String(portMin), String(portMin + 1));
      await waitFor(() => holder.sofar().includes('}'), {
        timeout: 10_000,
        what: "mallory's binds",
      });
      return { holder, binds: JSON.parse(holder.sofar()) as Record<string, string> };
    };
    const expectBinds = (binds: Record<string, string>, outcome: string) =>
      assert.deepEqual(
        Object.values(binds),
        Array<string>(4).fill(outcome),
        `mallory's binds: ${JSON.stringify(binds)}`,
      );
    const guarded = await hold();
    try {
      expectBinds(guarded.binds, 'EPERM');
      const web = await stack.startServer(alice, 'web2', 'web');
      assert.equal(web.state, 'running');
      assert.ok(web.port === portMin || web.port === portMin + 1, `port ${web.port}`);
      const term = await stack.startServer(alice, 'term2', 'terminal');
      assert.equal(term.port, null, 'a socket app takes no port');
      await stack.api('DELETE', `/users/${alice}/servers/web2`);
      await stack.api('DELETE', `/users/${alice}/servers/term2`);
    } finally {
      guarded.holder.child.kill('SIGTERM');
      await guarded.holder.output();
    }
    // Without the guard the same account holds the range, and an app that needs a port cannot start.
    assert.equal((await stack.portGuard('remove')).code, 0);
    const open = await hold();
    try {
      expectBinds(open.binds, 'bound');
      const web = await stack.api('POST', `/users/${alice}/servers/web3`, { app: 'web' });
      assert.equal(web.status, 503);
      assert.equal(web.body.code, 'no_free_port');
    } finally {
      open.holder.child.kill('SIGTERM');
      await open.holder.output();
      assert.equal((await stack.portGuard('sync')).code, 0);
    }
  });
});
