/**
 * Issue 26, users' own ports, with everything real: the sudo launcher, test Unix accounts,
 * the installed proxy, both CHPs, the port guard's root helper. A program alice starts in
 * her terminal listens on a port; she reaches it through CHP, over HTTP and WebSocket; bob,
 * a visitor without the port's share, an anonymous request and mallory (a local account
 * outside the allowed group) get nothing; ports of other uids and outside the admin's
 * ranges are refused with a message naming why.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import WebSocket from 'ws';
import { hostLabel } from '../../src/host-label.js';
import { portLabel } from '../../src/port-label.js';
import { NAV } from '../helpers/browser-steps.js';
import { httpFetch } from '../helpers/http-fetch.js';
import { requireRootOrSkip } from '../helpers/index.js';
import { useLoginLink } from '../helpers/login-link.js';
import { freePort } from '../helpers/ports.js';
import { TermClient } from '../helpers/terminal-client.js';
import { waitFor } from '../helpers/wait.js';
import { TEST_USERS } from './harness.js';
import { connectAs } from './harness-guard.js';
import { isAlive, processesMentioning, uidOfUser } from './proc-scan.js';
import { SYSTEM_APPS_DOMAIN, SystemStack } from './system-stack.js';

const { alice, bob, carol, mallory } = TEST_USERS;
const TERMINAL = { title: 'Terminal', builtin: 'terminal' };
/** session_revalidate of the per-server origins' stack: short, so a port taken back shows quickly. */
const REVALIDATE_S = 2;

/**
 * The user's own program: answers HTTP with who it is and what it was asked (the path, the
 * prefix the proxy says it stripped, the server marks it inherited), greets a WebSocket with
 * the path it was opened on, and prints each request on stdout.
 */
const PORT_APP = String.raw`
const http = require('http'), crypto = require('crypto');
const port = Number(process.argv[2]);
const s = http.createServer((q, r) => {
  console.log('request ' + q.url);
  r.setHeader('content-type', 'application/json');
  r.end(JSON.stringify({ app: 'port-app', uid: process.getuid(), url: q.url,
    prefix: q.headers['x-forwarded-prefix'] || null, server: process.env.HUBAPPS_SERVER_ID || null }));
});
s.on('upgrade', (q, sock) => {
  console.log('upgrade ' + q.url);
  sock.on('error', () => undefined);
  const accept = crypto.createHash('sha1')
    .update(q.headers['sec-websocket-key'] + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
  sock.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    'Sec-WebSocket-Accept: ' + accept + '\r\n\r\n');
  const msg = Buffer.from('hello ' + q.url);
  sock.write(Buffer.concat([Buffer.from([0x81, msg.length]), msg]));
});
s.listen(port, '127.0.0.1', () => console.log('listening'));`;

/** `count` ports in a block of 100 that nobody listens on now, and the block: the admin's user_ports.ranges in these tests. */
async function portBlock(count: number): Promise<{ min: number; max: number; ports: number[] }> {
  const min = Math.min(await freePort(), 65_000);
  const ports: number[] = [];
  for (let p = min; p < min + 100 && ports.length < count; p++) {
    const free = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(p, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (free) ports.push(p);
  }
  if (ports.length < count) throw new Error(`no ${count} free ports in ${min}-${min + 99}`);
  return { min, max: min + 99, ports };
}

/** PORT_APP as `user`, started by root through sudo: outside any server (no marks). */
async function programAs(
  user: string,
  file: string,
  port: number,
): Promise<{ requests: () => string[]; stop(): Promise<void> }> {
  const child = spawn('sudo', ['-n', '-u', user, '--', process.execPath, file, String(port)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += String(d)));
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  await waitFor(() => out.includes('listening'), {
    timeout: 10_000,
    what: `${user}'s program to listen on ${port}`,
  });
  return {
    requests: () => out.split('\n').filter((l) => /^(request|upgrade) /.test(l)),
    stop: async () => {
      child.kill('SIGTERM');
      await closed;
    },
  };
}

/** What an answer says, its status and body, for assertions and their messages. */
async function answer(res: Response): Promise<{ status: number; text: string }> {
  return { status: res.status, text: await res.text() };
}

/** The first message of a WebSocket at `url`, or the status it was refused with. */
function firstMessage(url: string, headers: Record<string, string>): Promise<string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.once('message', (data) => {
      resolve(String(data));
      ws.terminate();
    });
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      resolve(`refused ${res.statusCode}`);
    });
    ws.once('error', (err) => resolve(`error ${err.message}`));
  });
}

/** The name=value of the cookie an answer sets. */
function cookieOf(res: Response): string {
  const set = res.headers.get('set-cookie');
  assert.ok(set, `no cookie set by the answer ${res.status}`);
  return set.split(';')[0]!;
}

/** A user's API token, made with the admin token. */
async function tokenOf(stack: SystemStack, user: string): Promise<string> {
  const r = await stack.api('POST', `/users/${user}/tokens`, { note: 'user ports test' });
  assert.equal(r.status, 201, `token for ${user}: ${JSON.stringify(r.body)}`);
  return r.body.token as string;
}

/** Start PORT_APP on `port` from the terminal's shell (so it carries the server's marks); its pid. */
async function startInTerminal(term: TermClient, file: string, port: number): Promise<number> {
  const m = await term.run(
    `${process.execPath} ${file} ${port} >/dev/null & echo "started-$!-"`,
    /started-(\d+)-/,
  );
  return Number(m[1]);
}

describe('system: users’ own ports on the path layout (issue 26; real sudo, CHP, port guard, four users)', function () {
  this.timeout(120_000);
  let block: Awaited<ReturnType<typeof portBlock>>;
  let stack: SystemStack;
  let appFile = '';
  let aliceToken = '';
  let bobToken = '';
  let aliceUid = 0;
  let term: TermClient;
  let termPid = 0;
  /** Alice's program in her terminal, and the ports of the other programs. */
  let P = 0;
  let Q = 0;
  let R = 0;
  const via = (path: string, token?: string) =>
    stack.viaChp(path, token ? { authorization: `token ${token}` } : {});
  const portPath = (port: number, rest = '/', kind = 'ports') =>
    `/apps/${alice}/term/${kind}/${port}${rest}`;

  before(async function () {
    requireRootOrSkip(this);
    block = await portBlock(3);
    [P, Q, R] = block.ports as [number, number, number];
    stack = new SystemStack({
      apps: { terminal: TERMINAL },
      portGuard: true,
      config: { user_ports: { ranges: [`${block.min}-${block.max}`], host_ports: true } },
    });
    await stack.setUp();
    appFile = join(stack.installed!.root, 'port-app.cjs');
    await writeFile(appFile, PORT_APP, { mode: 0o644 });
    [aliceToken, bobToken, aliceUid] = await Promise.all([
      tokenOf(stack, alice),
      tokenOf(stack, bob),
      uidOfUser(alice),
    ]);
    await stack.startServer(alice, 'term', 'terminal');
    term = await TermClient.open(
      `${stack.chp!.proxyUrl.replace(/^http/, 'ws')}/apps/${alice}/term/socket?cols=120&rows=30`,
      {
        headers: {
          authorization: `token ${aliceToken}`,
          origin: new URL(stack.chp!.proxyUrl).origin,
        },
      },
    );
    termPid = await startInTerminal(term, appFile, P);
    await waitFor(async () => (await connectAs(alice, P)) === 'connected', {
      timeout: 10_000,
      what: `the program in alice's terminal to listen on ${P}`,
    });
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed') stack.reportFailure(this.currentTest.fullTitle());
  });
  after(async () => {
    await term?.close();
    await stack?.tearDown();
  });

  it('lets alice reach the program in her terminal over HTTP, with the prefix stripped or kept, and over WebSocket', async () => {
    const row = stack.row(alice, 'term')!;
    const res = await via(portPath(P, '/hello?x=1'), aliceToken);
    const got = await answer(res);
    assert.equal(got.status, 200, got.text);
    assert.deepEqual(JSON.parse(got.text), {
      app: 'port-app',
      uid: aliceUid,
      url: '/hello?x=1',
      prefix: `/apps/${alice}/term/ports/${P}`,
      server: String(row.id),
    });
    const kept = await answer(await via(`/apps/${alice}/term/ports/absolute/${P}/abs`, aliceToken));
    assert.equal(kept.status, 200, kept.text);
    assert.equal(JSON.parse(kept.text).url, `/apps/${alice}/term/ports/absolute/${P}/abs`);
    const ws = `${stack.chp!.proxyUrl.replace(/^http/, 'ws')}${portPath(P, '/live')}`;
    assert.equal(
      await firstMessage(ws, {
        authorization: `token ${aliceToken}`,
        origin: new URL(stack.chp!.proxyUrl).origin,
      }),
      'hello /live',
    );
  });

  it("gives bob (allowed, no share) and an anonymous request nothing of it, and resets mallory's direct connection while the forward is open", async () => {
    for (const [who, token] of [
      ['bob', bobToken],
      ['nobody', undefined],
    ] as const) {
      for (const path of [portPath(P, '/secret'), `/apps/${alice}/term/ports/absolute/${P}/x`]) {
        const got = await answer(await via(path, token));
        assert.notEqual(got.status, 200, `${who} got ${path}`);
        assert.doesNotMatch(got.text, /port-app/, `${who} saw alice's program at ${path}`);
      }
      const ws = `${stack.chp!.proxyUrl.replace(/^http/, 'ws')}${portPath(P, '/live')}`;
      assert.match(
        await firstMessage(ws, {
          ...(token ? { authorization: `token ${token}` } : {}),
          origin: new URL(stack.chp!.proxyUrl).origin,
        }),
        /^refused 40\d$/,
        `${who} opened alice's program's WebSocket`,
      );
    }
    // mallory, outside the allowed group, gets no credential to send through CHP at all.
    for (const what of ['tokens', 'login-links']) {
      const r = await stack.api('POST', `/users/${mallory}/${what}`, {});
      assert.equal(r.status, 403, `${what} for mallory: ${JSON.stringify(r.body)}`);
    }
    // Alice opens the forward: from then on the guard resets every other account's connection.
    const opened = await via(portPath(P, '/'), aliceToken);
    assert.equal(opened.status, 200);
    await opened.body?.cancel();
    await waitFor(async () => (await connectAs(mallory, P)) === 'ECONNREFUSED', {
      timeout: 10_000,
      what: `mallory's direct connection to alice's port ${P} to be reset`,
    });
    assert.equal(await connectAs(bob, P), 'ECONNREFUSED');
    assert.equal(await connectAs(alice, P), 'connected', 'alice lost her own program');
    const again = await answer(await via(portPath(P, '/'), aliceToken));
    assert.equal(again.status, 200, `the guard keeps alice's proxy out too: ${again.text}`);
  });

  it('refuses a port another uid listens on even when alice names it, in both forms; her own program outside the server only as a host port', async () => {
    const bobs = await programAs(bob, appFile, Q);
    const hers = await programAs(alice, appFile, R);
    try {
      for (const kind of ['ports', 'host-ports']) {
        const got = await answer(await via(portPath(Q, '/', kind), aliceToken));
        assert.notEqual(got.status, 200, `alice reached bob's port ${Q} as ${kind}`);
        assert.doesNotMatch(got.text, /port-app/);
        assert.match(got.text, new RegExp(String(Q)), 'the refusal does not name the port');
      }
      assert.deepEqual(bobs.requests(), [], "bob's program was sent alice's requests");
      const host = await answer(await via(portPath(R, '/h', 'host-ports'), aliceToken));
      assert.equal(host.status, 200, host.text);
      assert.equal(JSON.parse(host.text).uid, aliceUid);
      const inServer = await answer(await via(portPath(R, '/s'), aliceToken));
      assert.notEqual(inServer.status, 200, 'a program outside the server passed as one inside it');
      assert.deepEqual(hers.requests(), ['request /h']);
    } finally {
      await Promise.all([bobs.stop(), hers.stop()]);
    }
  });

  it('refuses ports outside the admin’s ranges with a message naming user_ports.ranges', async () => {
    for (const port of [22, block.max + 1]) {
      const got = await answer(await via(portPath(port, '/'), aliceToken));
      assert.equal(got.status, 403, got.text);
      assert.match(got.text, /user_ports\.ranges/);
      assert.match(got.text, new RegExp(`port ${port}\\b`));
    }
  });

  it('keeps the forward guarded across a restart of the service, whatever happened to the table meanwhile', async () => {
    const opened = await via(portPath(P, '/'), aliceToken);
    assert.equal(opened.status, 200);
    await opened.body?.cancel();
    assert.match((await stack.portGuard('show')).stdout, new RegExp(`${P} \\. ${aliceUid}`));
    assert.equal((await stack.portGuard('remove')).code, 0);
    assert.equal(await connectAs(mallory, P), 'connected', 'the table was not removed');
    await stack.service!.stop();
    await stack.startService();
    assert.match(
      (await stack.portGuard('show')).stdout,
      new RegExp(`${P} \\. ${aliceUid}`),
      'start-up did not sync the open forward',
    );
    assert.equal(await connectAs(mallory, P), 'ECONNREFUSED');
    const got = await answer(await via(portPath(P, '/after'), aliceToken));
    assert.equal(got.status, 200, got.text);
  });

  it('lists the port as listening with its command, then as closed with a clear refusal once the program exits; the guard lets go', async () => {
    const listed = await stack.api(
      'GET',
      `/users/${alice}/servers/term/ports`,
      undefined,
      aliceToken,
    );
    assert.equal(listed.status, 200, JSON.stringify(listed.body));
    const entry = (listed.body.ports as Array<Record<string, unknown>>).find((p) => p.port === P);
    assert.ok(entry, `port ${P} is not listed: ${JSON.stringify(listed.body)}`);
    assert.equal(entry.state, 'listening');
    assert.equal(entry.kind, 'server');
    assert.equal(entry.command, 'node', 'the listing names the program that listens');
    assert.equal(
      (await stack.api('GET', `/users/${alice}/servers/term/ports`, undefined, bobToken)).status ===
        200,
      false,
      "bob listed alice's ports",
    );
    await term.run(`kill ${termPid}; echo "killed-$?-"`, /killed-0-/);
    await waitFor(
      async () => {
        const r = await stack.api(
          'GET',
          `/users/${alice}/servers/term/ports`,
          undefined,
          aliceToken,
        );
        const e = (r.body.ports as Array<Record<string, unknown>>).find((p) => p.port === P);
        return e?.state === 'closed';
      },
      { timeout: 15_000, what: `port ${P} to be listed as closed` },
    );
    const gone = await answer(await via(portPath(P, '/'), aliceToken));
    assert.notEqual(gone.status, 200);
    assert.match(
      gone.text,
      new RegExp(`nothing (in ${alice}'s server 'term' )?listens on port ${P}`),
    );
    await waitFor(
      async () => !(await stack.portGuard('show')).stdout.includes(`${P} . ${aliceUid}`),
      { timeout: 15_000, what: `the guard to release port ${P} after its program ended` },
    );
  });

  it('leaves no route, no process and no guard behind when the server stops', async () => {
    termPid = await startInTerminal(term, appFile, P);
    await waitFor(async () => (await via(portPath(P, '/'), aliceToken)).status === 200, {
      timeout: 10_000,
      what: 'the restarted program to answer through CHP',
    });
    assert.ok(isAlive(termPid));
    const r = await stack.api('DELETE', `/users/${alice}/servers/term`);
    assert.ok([200, 202, 204].includes(r.status), JSON.stringify(r.body));
    await stack.waitState(alice, 'term', ['stopped']);
    const routes = Object.keys(await stack.routes());
    assert.deepEqual(
      routes.filter((k) => k.startsWith(`/apps/${alice}/term`)),
      [],
      'a route of the stopped server is left',
    );
    await waitFor(() => !isAlive(termPid), { timeout: 10_000, what: 'the program to end' });
    assert.deepEqual(
      processesMentioning(appFile).map((p) => p.argv.join(' ')),
      [],
      'a process of the port program is left',
    );
    assert.doesNotMatch((await stack.portGuard('show')).stdout, new RegExp(`${P} \\. ${aliceUid}`));
    const got = await answer(await via(portPath(P, '/'), aliceToken));
    assert.notEqual(got.status, 200);
    assert.doesNotMatch(got.text, /port-app/);
  });
});

describe('system: a port’s own origin and its share (issue 26; per-server origins, real sudo, both CHPs)', function () {
  this.timeout(120_000);
  let stack: SystemStack;
  let block: Awaited<ReturnType<typeof portBlock>>;
  let appFile = '';
  const tokens: Record<string, string> = {};
  let term: TermClient;
  let P = 0;
  const portHost = () => `${portLabel(alice, 'term', P, 'server')}.${SYSTEM_APPS_DOMAIN}`;
  /**
   * A request to the port's host as a browser sends it: the first visit of a host lands on
   * the service, which routes it and sends the browser back to the same address (307).
   */
  const visit = async (user: string) => {
    const headers = { authorization: `token ${tokens[user]}` };
    let res = await stack.viaAppsChp(portHost(), '/shared', headers);
    const again = `http://${portHost()}:${stack.appsChp!.port}/shared`;
    if (res.status === 307 && res.headers.get('location') === again) {
      await res.body?.cancel();
      res = await stack.viaAppsChp(portHost(), '/shared', headers);
    }
    return answer(res);
  };

  /**
   * A visitor's browser, which has no token for someone else's server: a launcher session
   * from a login link, then the port host's first visit through the service's authorize
   * page and back with a code, as browser-steps.ts replays it for servers. The answer where
   * it stops: the refusal at authorize, or the port's page.
   */
  const onPortHost = async (path: string, headers: Record<string, string>) => {
    let res = await stack.viaAppsChp(portHost(), path, headers);
    if (res.status === 307) {
      await res.body?.cancel();
      res = await stack.viaAppsChp(portHost(), path, headers);
    }
    return res;
  };
  /** The port host's session cookie of the last browse() that got in. */
  let session = '';
  const browse = async (user: string) => {
    const link = await stack.api('POST', `/users/${user}/login-links`, {});
    assert.equal(link.status, 201, JSON.stringify(link.body));
    const origin = new URL(stack.chp!.proxyUrl).origin;
    const launcher = cookieOf(await useLoginLink(origin, link.body.url as string));
    const first = await onPortHost('/shared', NAV);
    if (first.status !== 302) return answer(first);
    const grant = cookieOf(first);
    const authorize = new URL(first.headers.get('location')!);
    const granted = await httpFetch(`${origin}${authorize.pathname}${authorize.search}`, {
      headers: { ...NAV, cookie: launcher },
    });
    if (granted.status !== 302) return answer(granted);
    const back = new URL(granted.headers.get('location')!);
    assert.equal(back.hostname, portHost(), 'the code went to another host than the port’s');
    const redeemed = await onPortHost(`${back.pathname}${back.search}`, { ...NAV, cookie: grant });
    if (redeemed.status !== 302) return answer(redeemed);
    session = cookieOf(redeemed);
    return answer(await onPortHost('/shared', { ...NAV, cookie: session }));
  };

  before(async function () {
    requireRootOrSkip(this);
    block = await portBlock(1);
    P = block.ports[0]!;
    stack = new SystemStack({
      apps: { terminal: TERMINAL },
      appsLayout: true,
      config: {
        user_ports: { ranges: [`${block.min}-${block.max}`] },
        session_revalidate: REVALIDATE_S,
      },
    });
    await stack.setUp();
    appFile = join(stack.installed!.root, 'port-app.cjs');
    await writeFile(appFile, PORT_APP, { mode: 0o644 });
    for (const u of [alice, bob, carol]) tokens[u] = await tokenOf(stack, u);
    await stack.startServer(alice, 'term', 'terminal');
    const serverHost = `${hostLabel(alice, 'term')}.${SYSTEM_APPS_DOMAIN}:${stack.appsChp!.port}`;
    term = await TermClient.open(`ws://127.0.0.1:${stack.appsChp!.port}/socket?cols=120&rows=30`, {
      headers: {
        host: serverHost,
        authorization: `token ${tokens[alice]}`,
        origin: `http://${serverHost}`,
      },
    });
    await startInTerminal(term, appFile, P);
    await waitFor(async () => (await connectAs(alice, P)) === 'connected', {
      timeout: 10_000,
      what: `the program in alice's terminal to listen on ${P}`,
    });
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed') stack.reportFailure(this.currentTest.fullTitle());
  });
  after(async () => {
    await term?.close();
    await stack?.tearDown();
  });

  it('serves the port on its own host to alice, the path unchanged', async () => {
    const got = await visit(alice);
    assert.equal(got.status, 200, got.text);
    assert.equal(JSON.parse(got.text).url, '/shared');
  });

  it('keeps out a visitor who has the server’s share but not the port’s, until alice shares the port; carol, without either, stays out', async () => {
    const share = await stack.api(
      'POST',
      `/users/${alice}/servers/term/shares`,
      {
        user: bob,
      },
      tokens[alice]!,
    );
    assert.equal(share.status, 201, JSON.stringify(share.body));
    const before = await browse(bob);
    assert.notEqual(before.status, 200, 'bob reached a port alice did not share');
    assert.doesNotMatch(before.text, /port-app/);
    assert.match(
      before.text,
      new RegExp(`has shared the server (&#39;|')term\\1 but not port ${P}`),
    );
    const byBob = await stack.api(
      'PATCH',
      `/users/${alice}/servers/term/ports/${P}`,
      {
        shared: true,
      },
      tokens[bob]!,
    );
    assert.notEqual(byBob.status, 200, 'the visitor shared the port himself');
    const shared = await stack.api(
      'PATCH',
      `/users/${alice}/servers/term/ports/${P}`,
      {
        shared: true,
      },
      tokens[alice]!,
    );
    assert.equal(shared.status, 200, JSON.stringify(shared.body));
    let last = before;
    await waitFor(async () => (last = await browse(bob)).status === 200, {
      timeout: 10_000,
      what: 'bob to get in once the port is shared',
    }).catch((err: Error) => {
      throw new Error(`${err.message}; bob got ${last.status} ${last.text.slice(0, 300)}`);
    });
    const carols = await browse(carol);
    assert.notEqual(carols.status, 200, 'carol got in without a share');
    assert.doesNotMatch(carols.text, /port-app/);
    assert.match(carols.text, /Not your server/);
  });

  it('takes the port back from the visitor’s open session once alice no longer shares it, the server’s share kept (the proxy’s port-access check)', async () => {
    const bobs = session;
    const open = await onPortHost('/again', { ...NAV, cookie: bobs });
    assert.equal(open.status, 200, 'bob’s session of the last test does not open the port');
    await open.body?.cancel();
    const unshared = await stack.api(
      'PATCH',
      `/users/${alice}/servers/term/ports/${P}`,
      { shared: false },
      tokens[alice]!,
    );
    assert.equal(unshared.status, 200, JSON.stringify(unshared.body));
    let last = { status: 200, text: '' };
    await waitFor(
      async () =>
        (last = await answer(await onPortHost('/again', { ...NAV, cookie: bobs }))).status !== 200,
      { timeout: 10 * REVALIDATE_S * 1000, what: 'bob’s session to lose the port' },
    );
    assert.doesNotMatch(last.text, /port-app/);
    assert.match(last.text, new RegExp(`but not port ${P}`));
  });

  it("does not serve the path forms on the server's own origin (they would shadow the app)", async () => {
    const serverHost = `${hostLabel(alice, 'term')}.${SYSTEM_APPS_DOMAIN}`;
    const got = await answer(
      await stack.viaAppsChp(serverHost, `/ports/${P}/x`, {
        authorization: `token ${tokens[alice]}`,
      }),
    );
    assert.doesNotMatch(got.text, /port-app/);
  });
});
