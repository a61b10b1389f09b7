import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import WebSocket from 'ws';
import { checkRecipient, parseShareBody } from '../../../src/api/shares.js';
import { NssUserDirectory } from '../../../src/users/nss.js';
import { UserPolicy } from '../../../src/users/policy.js';
import { httpFetch } from '../../helpers/http-fetch.js';
import { useLoginLink } from '../../helpers/login-link.js';
import { startLocalStack, type LocalStack } from '../../helpers/stack.js';
import { waitFor } from '../../helpers/wait.js';

const NAV = { accept: 'text/html', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' };
const WS_MODULE = createRequire(import.meta.url).resolve('ws');
/** Answers every request with the visitor the proxy named (/owner: the owner), and echoes WebSocket messages. */
const APP_SOURCE = `
const http = require('http');
const { WebSocketServer } = require(${JSON.stringify(WS_MODULE)});
const server = http.createServer((q, s) =>
  s.end(q.url === '/owner' ? 'owner=' + q.headers['x-hubapps-owner'] : 'visitor=' + (q.headers['x-hubapps-user'] || '')),
);
const wss = new WebSocketServer({ server });
wss.on('connection', (ws, q) => ws.on('message', (m) => ws.send(q.headers['x-hubapps-user'] + ':' + m)));
server.listen(+process.argv[2], '127.0.0.1');
`;

function writeApp(dir: string): string {
  const file = path.join(dir, 'visitor-app.cjs');
  fs.writeFileSync(file, APP_SOURCE);
  return file;
}

describe('sharing a server on per-server origins (local launcher, real CHPs)', function () {
  this.timeout(60000);
  let stack: LocalStack;
  let host: string;
  let alice: Record<string, string>;
  let bob: Record<string, string>;
  let appDir: string | undefined;

  before(async () => {
    appDir = fs.mkdtempSync('/tmp/hubapps-share-app-');
    const file = writeApp(appDir);
    const app = {
      title: 'Lab',
      command: [process.execPath, file, '{port}'],
      ready: { timeout: 10 },
    };
    stack = await startLocalStack({
      apps: { lab: app, private: { ...app, title: 'Private', shareable: false } },
      hostLayout: true,
      config: { reconcile_interval: 3600, session_revalidate: 1 },
    });
    alice = {
      authorization: `token ${(await stack.api('POST', '/users/alice/tokens', {})).body.token}`,
    };
    bob = {
      authorization: `token ${(await stack.api('POST', '/users/bob/tokens', {})).body.token}`,
    };
    for (const [name, appName] of [
      ['lab', 'lab'],
      ['secret', 'private'],
    ] as const) {
      assert.equal(
        (await stack.api('POST', `/users/alice/servers/${name}`, { app: appName })).status,
        202,
      );
      await waitFor(
        async () =>
          (await stack.api('GET', `/users/alice/servers/${name}`)).body.state === 'running',
        { timeout: 15000, what: `alice/${name} to run` },
      );
    }
    host = `lab--alice.apps.localhost:${stack.appsChp!.port}`;
  });
  after(async () => {
    await stack?.stop();
    if (appDir) fs.rmSync(appDir, { recursive: true, force: true });
  });

  async function launcherSession(user: string): Promise<string> {
    const link = await stack.api('POST', `/users/${user}/login-links`, {});
    const res = await useLoginLink(stack.service.urls.serviceOrigin, link.body.url);
    return res.headers.get('set-cookie')!.split(';')[0]!;
  }

  /** A browser of `user` opens alice/lab: the proxy's redirect, the authorize page, the code; the proxy's cookie, or the status that stopped it. */
  async function openAsBrowser(user: string): Promise<{ cookie?: string; status: number }> {
    const launcher = await launcherSession(user);
    const first = await stack.viaApps(host, '/', { headers: NAV });
    const grantCookie = first.headers['set-cookie']![0]!.split(';')[0]!;
    const to = new URL(first.headers.location!);
    const authorize = await httpFetch(
      `${stack.service.urls.serviceOrigin}${to.pathname}${to.search}`,
      { headers: { ...NAV, cookie: launcher } },
    );
    if (authorize.status !== 302) return { status: authorize.status };
    const code = new URL(authorize.headers.get('location')!);
    const redeemed = await stack.viaApps(host, code.pathname + code.search, {
      headers: { ...NAV, cookie: grantCookie },
    });
    const cookie = redeemed.headers['set-cookie']
      ?.find((c) => !c.startsWith('__Host-hubapps-grant-'))
      ?.split(';')[0];
    return cookie ? { cookie, status: redeemed.status } : { status: redeemed.status };
  }

  it("lets only the owner or an admin list and change a server's shares", async () => {
    assert.equal(
      (await stack.api('GET', '/users/alice/servers/lab/shares', undefined, bob)).status,
      403,
    );
    assert.equal(
      (await stack.api('POST', '/users/alice/servers/lab/shares', { user: 'bob' }, bob)).status,
      403,
    );
    const r = await stack.api('GET', '/users/alice/servers/lab/shares', undefined, alice);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { shareable: true, shares: [] });
  });

  it('refuses bad share requests with a message, and writes no share', async () => {
    const cases: Array<[unknown, number, RegExp]> = [
      [{}, 400, /\{"user": NAME\} or \{"group"/],
      [{ user: 'bob', group: 'x' }, 400, /\{"user": NAME\}/],
      [{ user: 'alice' }, 400, /owns this server/],
      [{ user: '../x' }, 400, /./],
      [{ group: 'hubapps-t-no-such-group' }, 400, /no Unix group 'hubapps-t-no-such-group'/],
    ];
    for (const [body, status, message] of cases) {
      const r = await stack.api('POST', '/users/alice/servers/lab/shares', body, alice);
      assert.equal(r.status, status, JSON.stringify(body));
      assert.match(r.body.message, message);
    }
    const refused = await stack.api(
      'POST',
      '/users/alice/servers/secret/shares',
      { user: 'bob' },
      alice,
    );
    assert.equal(refused.status, 403);
    assert.match(refused.body.message, /shareable: false/);
    assert.equal(stack.service.deps.store.get('alice', 'lab') !== undefined, true);
    assert.deepEqual((await stack.api('GET', '/shares')).body.shares, []);
  });

  it('keeps a visitor without a share out: the authorize page refuses and audits it', async () => {
    const carol = await openAsBrowser('carol');
    assert.equal(carol.status, 403);
    assert.equal(carol.cookie, undefined);
    const events = await stack.api('GET', '/events?user=alice&server=lab&kind=audit');
    assert.ok(
      events.body.events.some(
        (e: { message: string }) => e.message === 'carol was refused access to alice/lab',
      ),
    );
  });

  it('lets bob in once alice shares with him, names him to the app, and lists it as shared with him, not with carol', async () => {
    const added = await stack.api(
      'POST',
      '/users/alice/servers/lab/shares',
      { user: 'bob' },
      alice,
    );
    assert.equal(added.status, 201);
    assert.equal(added.body.user, 'bob');
    assert.equal(
      (await stack.api('POST', '/users/alice/servers/lab/shares', { user: 'bob' }, alice)).status,
      409,
    );
    const mine = await stack.api('GET', '/users/bob/shared-with-me', undefined, bob);
    assert.deepEqual(
      mine.body.shares.map((s: { owner: string; server: string; url: string }) => [
        s.owner,
        s.server,
        s.url,
      ]),
      [['alice', 'lab', `http://${host}/`]],
    );
    assert.deepEqual((await stack.api('GET', '/users/carol/shared-with-me')).body.shares, []);

    const visit = await openAsBrowser('bob');
    assert.ok(visit.cookie, `no cookie (status ${visit.status})`);
    const page = await stack.viaApps(host, '/', {
      headers: { cookie: visit.cookie!, 'x-hubapps-user': 'alice' },
    });
    assert.equal(page.status, 200);
    assert.equal(
      page.body,
      'visitor=bob',
      'the proxy names the visitor and ignores the header the client sent',
    );
    const owner = await stack.viaApps(host, '/owner', {
      headers: { cookie: visit.cookie!, 'x-hubapps-owner': 'bob' },
    });
    assert.equal(
      owner.body,
      'owner=alice',
      "the visitor's page learns the owner, not what it claimed",
    );
    assert.equal((await openAsBrowser('carol')).status, 403, 'carol still cannot get in');
    const events = await stack.api('GET', '/events?user=alice&server=lab&kind=audit');
    const messages = events.body.events.map((e: { message: string }) => e.message);
    assert.ok(messages.includes('alice shared alice/lab with user bob'), messages.join('\n'));
    assert.ok(messages.includes('bob opened alice/lab as a visitor (shared)'), messages.join('\n'));
  });

  it("ends a visitor's requests and open WebSocket within the re-validation interval once the share is revoked", async () => {
    const visit = await openAsBrowser('bob');
    const ws = new WebSocket(`ws://127.0.0.1:${stack.appsChp!.port}/ws`, {
      headers: { host, cookie: visit.cookie!, origin: `http://${host}` },
    });
    await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
    const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    ws.send('hello');
    const [echo] = (await new Promise((resolve) =>
      ws.once('message', (m) => resolve([String(m)])),
    )) as [string];
    assert.equal(echo, 'bob:hello', 'the app sees the visitor on the WebSocket too');

    const list = await stack.api('GET', '/users/alice/servers/lab/shares', undefined, alice);
    const id = list.body.shares.find((s: { user?: string }) => s.user === 'bob').id;
    assert.equal(
      (await stack.api('DELETE', `/users/alice/servers/lab/shares/${id}`, undefined, alice)).status,
      204,
    );
    await closed;
    await waitFor(
      async () =>
        (await stack.viaApps(host, '/', { headers: { cookie: visit.cookie! } })).status === 401,
      { timeout: 10000, what: "bob's cookie to stop working" },
    );
    assert.equal((await openAsBrowser('bob')).status, 403, 'and no new access code is issued');
    const events = await stack.api('GET', '/events?user=alice&server=lab&kind=audit');
    assert.ok(
      events.body.events.some(
        (e: { message: string }) =>
          e.message === 'alice revoked the share of alice/lab with user bob',
      ),
    );
  });

  it('shows admins every share and lets them revoke any', async () => {
    const group = 'root';
    assert.equal(
      (await stack.api('POST', '/users/alice/servers/lab/shares', { group }, alice)).status,
      201,
    );
    assert.equal((await stack.api('GET', '/shares', undefined, bob)).status, 403);
    const all = await stack.api('GET', '/shares');
    assert.deepEqual(
      all.body.shares.map((s: { owner: string; group?: string }) => [s.owner, s.group]),
      [['alice', group]],
    );
    assert.equal(
      (await stack.api('DELETE', `/users/alice/servers/lab/shares/${all.body.shares[0].id}`))
        .status,
      204,
    );
    assert.deepEqual((await stack.api('GET', '/shares')).body.shares, []);
    assert.equal(
      (await stack.api('DELETE', `/users/alice/servers/lab/shares/${all.body.shares[0].id}`))
        .status,
      404,
    );
  });
  describe('share links', () => {
    /** Press the button on the link's page, as a browser logged in with `launcher` does. */
    async function redeem(
      url: string,
      launcher: string | null,
      origin = stack.service.urls.publicOrigin,
    ): Promise<Response> {
      const link = new URL(url);
      const page = `${origin}${link.pathname}${link.search}`;
      const headers: Record<string, string> = {
        ...NAV,
        origin,
        referer: page,
        'content-type': 'application/x-www-form-urlencoded',
        'sec-fetch-site': 'same-origin',
      };
      if (launcher) headers.cookie = launcher;
      return httpFetch(`${stack.service.urls.serviceOrigin}${link.pathname}`, {
        method: 'POST',
        headers,
        body: new URLSearchParams({ code: link.searchParams.get('code')! }).toString(),
      });
    }

    it("gives a single-use link's redeemer a share and the server's address, once", async () => {
      const minted = await stack.api(
        'POST',
        '/users/alice/servers/lab/share-links',
        { uses: 1, expires_in: 600 },
        alice,
      );
      assert.equal(minted.status, 201, JSON.stringify(minted.body));
      assert.equal(minted.body.uses_left, 1);
      const carol = await launcherSession('carol');
      const used = await redeem(minted.body.url, carol);
      assert.equal(used.status, 302);
      assert.equal(used.headers.get('location'), `http://${host}/`);
      const shares = (await stack.api('GET', '/users/alice/servers/lab/shares', undefined, alice))
        .body.shares;
      assert.deepEqual(
        shares.map((x: { user?: string }) => x.user),
        ['carol'],
      );
      const visit = await openAsBrowser('carol');
      assert.ok(visit.cookie, 'carol gets in through the share the link gave her');
      const again = await redeem(minted.body.url, await launcherSession('bob'));
      assert.equal(again.status, 400);
      assert.match(await again.text(), /expired, was used up or was revoked/);
      assert.equal((await openAsBrowser('bob')).status, 403, 'the used-up link let bob in');
      await stack.api(
        'DELETE',
        `/users/alice/servers/lab/shares/${shares[0].id}`,
        undefined,
        alice,
      );
    });

    it('refuses a revoked link, a press without a login and a press from another page', async () => {
      const minted = await stack.api(
        'POST',
        '/users/alice/servers/lab/share-links',
        { uses: 5 },
        alice,
      );
      const bobSession = await launcherSession('bob');
      const noLogin = await redeem(minted.body.url, null);
      assert.equal(noLogin.status, 302);
      assert.match(noLogin.headers.get('location')!, /\/services\/hubapps\/login\?next=/);
      const foreign = await redeem(
        minted.body.url,
        bobSession,
        `http://lab--alice.apps.localhost:${stack.appsChp!.port}`,
      );
      assert.equal(foreign.status, 403);
      assert.equal(
        (
          await stack.api(
            'DELETE',
            `/users/alice/servers/lab/share-links/${minted.body.id}`,
            undefined,
            alice,
          )
        ).status,
        204,
      );
      assert.equal((await redeem(minted.body.url, bobSession)).status, 400);
      assert.deepEqual(
        (await stack.api('GET', '/users/alice/servers/lab/shares', undefined, alice)).body.shares,
        [],
      );
      assert.equal(
        (await stack.api('POST', '/users/alice/servers/lab/share-links', { uses: 0 }, alice))
          .status,
        400,
      );
      assert.equal(
        (await stack.api('POST', '/users/alice/servers/lab/share-links', {}, bob)).status,
        403,
      );
    });
  });
});

describe('sharing on the shared path layout', function () {
  this.timeout(60000);
  let stack: LocalStack;
  before(async () => {
    stack = await startLocalStack({
      apps: { hello: { title: 'Hello', command: [process.execPath, '-e', '0'] } },
      config: { reconcile_interval: 3600 },
    });
    assert.equal(
      (await stack.api('POST', '/users/alice/servers/lab', { app: 'hello' })).status,
      202,
    );
  });
  after(async () => stack?.stop());

  it('is refused with a message that names apps_domain, and nothing is stored', async () => {
    const alice = {
      authorization: `token ${(await stack.api('POST', '/users/alice/tokens', {})).body.token}`,
    };
    const r = await stack.api('POST', '/users/alice/servers/lab/shares', { user: 'bob' }, alice);
    assert.equal(r.status, 409);
    assert.match(r.body.message, /per-server origins.*apps_domain/);
    const list = await stack.api('GET', '/users/alice/servers/lab/shares');
    assert.equal(list.body.shareable, false);
    assert.deepEqual(list.body.shares, []);
  });
});

describe('sharing turned off host-wide (config sharing: false)', function () {
  this.timeout(60000);
  let stack: LocalStack;
  before(async () => {
    stack = await startLocalStack({
      apps: { hello: { title: 'Hello', command: [process.execPath, '-e', '0'] } },
      hostLayout: true,
      config: { reconcile_interval: 3600, sharing: false },
    });
    assert.equal(
      (await stack.api('POST', '/users/alice/servers/lab', { app: 'hello' })).status,
      202,
    );
  });
  after(async () => stack?.stop());

  it('refuses shares and share links, naming the config key, even on per-server origins', async () => {
    const alice = {
      authorization: `token ${(await stack.api('POST', '/users/alice/tokens', {})).body.token}`,
    };
    for (const path of ['shares', 'share-links']) {
      const r = await stack.api(
        'POST',
        `/users/alice/servers/lab/${path}`,
        path === 'shares' ? { user: 'bob' } : {},
        alice,
      );
      assert.equal(r.status, 403, path);
      assert.match(r.body.message, /sharing is turned off on this host \(config key sharing\)/);
    }
    assert.deepEqual((await stack.api('GET', '/shares')).body.shares, []);
  });
});

describe('share rules', () => {
  it('refuses to share with an account outside the allowed group (real NSS look-up)', async () => {
    const users = new UserPolicy(new NssUserDirectory(), { allowedGroup: 'root', minUid: 0 });
    await assert.rejects(
      checkRecipient({ users }, 'user', 'daemon', 'alice'),
      /cannot share with daemon: user daemon is not a member of group root/,
    );
    await assert.rejects(
      checkRecipient({ users }, 'user', 'hubapps-t-nobody-here', 'alice'),
      /cannot share with hubapps-t-nobody-here: no such user/,
    );
  });

  it('takes exactly one of user or group', () => {
    assert.deepEqual(parseShareBody({ group: 'lab' }), { kind: 'group', subject: 'lab' });
    assert.throws(() => parseShareBody([]), /\{"user": NAME\}/);
    assert.throws(() => parseShareBody({ user: 3 }), /\{"user": NAME\}/);
  });
});
