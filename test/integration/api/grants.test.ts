import { useLoginLink } from '../../helpers/login-link.js';
import assert from 'node:assert/strict';
import type Database from 'better-sqlite3';
import { hashSecret } from '../../../src/secret-hash.js';
import { signCall } from '../../../src/protocol/challenge.js';
import { startLocalStack, type LocalStack } from '../../helpers/stack.js';
import { waitFor } from '../../helpers/wait.js';
import { httpFetch } from '../../helpers/http-fetch.js';

/** Answers "app <url>"; no braces, which the catalog would read as placeholders. */
const APP =
  "require('http').createServer((q, s) => s.end('app ' + q.url)).listen(+process.argv[1], '127.0.0.1')";
/** What a browser's page load says (Node's fetch says sec-fetch-mode: cors unless told). */
const HTML = { accept: 'text/html', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' };
/** The grant cookie of "the browser" in these tests; authorize gets its hash, redemption the value. */
const NONCE = 'n'.repeat(43);

interface ServerRow {
  id: number;
  secret: string;
}

describe('api: per-server access for proxies (authorize, redeem, token checks)', function () {
  this.timeout(30000);
  let stack: LocalStack;
  let alice: string;
  let bob: string;
  let carol: string;
  const db = () => (stack.service.deps.store as unknown as { db: Database.Database }).db;
  const row = (user: string) =>
    db()
      .prepare("SELECT id, secret FROM servers WHERE user = ? AND name = 'lab'")
      .get(user) as ServerRow;
  // Node's fetch always says sec-fetch-mode: cors; page loads need the headers a browser sends, so plain http.
  const service = (
    path: string,
    init: { method?: string; headers?: Record<string, string>; body?: string } = {},
  ) => httpFetch(`${stack.service.urls.serviceOrigin}${path}`, init);
  const authorize = (session: string | undefined, user: string, next = `/apps/${user}/lab/x`) =>
    service(
      `/services/hubapps/authorize?${new URLSearchParams({ user, server: 'lab', binding: hashSecret(NONCE), next })}`,
      { headers: session ? { ...HTML, cookie: session } : HTML },
    );
  const redeem = (r: ServerRow, code: string, secret = r.secret, binding = NONCE) =>
    service('/services/hubapps/api/internal/redeem-grant', {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ serverId: r.id, code, binding }),
    });
  const codeOf = (res: Response) =>
    new URL(res.headers.get('location')!, 'http://x').searchParams.get('code')!;

  async function session(user: string): Promise<string> {
    const link = await stack.api('POST', `/users/${user}/login-links`, {});
    const res = await useLoginLink(stack.service.urls.serviceOrigin, link.body.url);
    return res.headers.get('set-cookie')!.split(';')[0]!;
  }

  before(async () => {
    stack = await startLocalStack({
      apps: { lab: { title: 'Lab', command: [process.execPath, '-e', APP, '{port}'] } },
      config: { admin_access: false, admin_users: ['carol'] },
    });
    for (const user of ['alice', 'bob']) {
      assert.equal(
        (await stack.api('POST', `/users/${user}/servers/lab`, { app: 'lab' })).status,
        202,
      );
    }
    for (const user of ['alice', 'bob']) {
      await waitFor(
        async () => (await stack.api('GET', `/users/${user}/servers/lab`)).body.state === 'running',
        { timeout: 15000, what: `${user}'s server to run` },
      );
    }
    [alice, bob, carol] = [await session('alice'), await session('bob'), await session('carol')];
  });
  after(async () => stack?.stop());

  it('sends a browser without a launcher session to login, and back to authorize afterwards', async () => {
    const res = await authorize(undefined, 'alice');
    assert.equal(res.status, 302);
    const location = new URL(res.headers.get('location')!, 'http://x');
    assert.equal(location.pathname, '/services/hubapps/login');
    assert.match(
      location.searchParams.get('next')!,
      /^\/services\/hubapps\/authorize\?user=alice&server=lab&binding=[\w-]{43}&next=/,
    );
  });

  it('answers every browser without a session the same, whether the server exists or not: on to login', async () => {
    for (const [user, server] of [
      ['alice', 'lab'],
      ['alice', 'nope'],
      ['nobody', 'lab'],
      ['-bad', '..'],
    ]) {
      const res = await service(
        `/services/hubapps/authorize?${new URLSearchParams({ user, server, binding: hashSecret(NONCE), next: '/' })}`,
        { headers: HTML },
      );
      assert.equal(res.status, 302, `${user}/${server}`);
      assert.equal(
        new URL(res.headers.get('location')!, 'http://x').pathname,
        '/services/hubapps/login',
        `${user}/${server}`,
      );
    }
  });

  it("gives the owner a 60 s single-use code bound to the server, stored only as a hash, at the proxy's grant endpoint", async () => {
    const res = await authorize(alice, 'alice');
    assert.equal(res.status, 302);
    assert.match(
      res.headers.get('location')!,
      /^\/apps\/alice\/lab\/_hubapps\/grant\?code=[\w-]{40,}$/,
    );
    const code = codeOf(res);
    const stored = db().prepare('SELECT * FROM codes WHERE hash = ?').get(hashSecret(code)) as {
      server_id: number;
      user: string;
      created_at: string;
      expires_at: string;
    };
    assert.equal(stored.server_id, row('alice').id);
    assert.equal(stored.user, 'alice');
    assert.equal(Date.parse(stored.expires_at) - Date.parse(stored.created_at), 60_000);
    assert.equal(db().prepare('SELECT COUNT(*) FROM codes WHERE hash = ?').pluck().get(code), 0);
  });

  it("in the path layout, sends a port's authorize back to the server's own grant path with a server code (its ports share the server's origin and cookie)", async () => {
    const next = '/apps/alice/lab/ports/8787/dash';
    const res = await service(
      `/services/hubapps/authorize?${new URLSearchParams({ user: 'alice', server: 'lab', binding: hashSecret(NONCE), next, port: '8787', port_kind: 'server' })}`,
      { headers: { ...HTML, cookie: alice } },
    );
    assert.equal(res.status, 302);
    assert.match(
      res.headers.get('location')!,
      /^\/apps\/alice\/lab\/_hubapps\/grant\?code=[\w-]{40,}$/,
    );
    const redeemed = await redeem(row('alice'), codeOf(res));
    assert.equal(redeemed.status, 200);
    assert.equal(((await redeemed.json()) as { next: string }).next, next);
    const outside = await service(
      `/services/hubapps/authorize?${new URLSearchParams({ user: 'alice', server: 'lab', binding: hashSecret(NONCE), next, port: '80', port_kind: 'server' })}`,
      { headers: { ...HTML, cookie: alice } },
    );
    assert.equal(outside.status, 403, 'the port is checked in this layout too');
  });

  it("redeems a code once, only for its own server: another server's proxy can neither use nor burn it", async () => {
    const code = codeOf(await authorize(alice, 'alice', '/apps/alice/lab/tree?x=1'));
    assert.equal((await redeem(row('bob'), code)).status, 403, "bob's proxy redeemed alice's code");
    assert.equal(
      (await redeem(row('alice'), code, row('bob').secret)).status,
      401,
      "the wrong server's secret was accepted",
    );
    const ok = await redeem(row('alice'), code);
    assert.equal(ok.status, 200);
    const answer = (await ok.json()) as Record<string, unknown>;
    assert.deepEqual(
      { ...answer, session: undefined },
      {
        user: 'alice',
        admin: false,
        shared: false,
        ttl: 0,
        next: '/apps/alice/lab/tree?x=1',
        session: undefined,
      },
    );
    assert.equal(
      answer.session,
      hashSecret(alice.split('=')[1]!),
      'the code names the launcher session that granted it',
    );
    assert.equal((await redeem(row('alice'), code)).status, 403, 'a code worked twice');
  });

  it('refuses an expired code', async () => {
    const code = codeOf(await authorize(alice, 'alice'));
    db()
      .prepare('UPDATE codes SET expires_at = ? WHERE hash = ?')
      .run(new Date(Date.now() - 1000).toISOString(), hashSecret(code));
    assert.equal((await redeem(row('alice'), code)).status, 403);
  });

  it("refuses bob, and an admin without admin_access, on alice's server with a page and no code", async () => {
    const before = db().prepare('SELECT COUNT(*) FROM codes').pluck().get();
    for (const who of [bob, carol]) {
      const res = await authorize(who, 'alice');
      assert.equal(res.status, 403);
      assert.match(await res.text(), /this server belongs to alice/);
    }
    assert.equal(db().prepare('SELECT COUNT(*) FROM codes').pluck().get(), before);
  });

  it('writes one audit row a minute per user, server and reason for repeated refusals, and counts every refusal in the metrics', async () => {
    const metric = async () => {
      const text = await (
        await fetch(`${stack.service.urls.serviceOrigin}/services/hubapps/metrics`, {
          headers: { authorization: `token ${stack.token}` },
        })
      ).text();
      return Number(
        /^hubapps_access_refusals_total\{reason="not_allowed"\} (\d+)$/m.exec(text)?.[1] ?? 0,
      );
    };
    const rows = (message: string) =>
      db().prepare('SELECT COUNT(*) FROM events WHERE message = ?').pluck().get(message);
    const counted = await metric();
    for (let i = 0; i < 50; i++) assert.equal((await authorize(carol, 'bob')).status, 403);
    assert.equal(rows('carol was refused access to bob/lab'), 1);
    assert.equal(await metric(), counted + 50);
    assert.equal((await authorize(alice, 'bob')).status, 403);
    assert.equal(
      rows('alice was refused access to bob/lab'),
      1,
      'another user is recorded on their own',
    );
  });

  for (const next of [
    'https://elsewhere.example/',
    '//elsewhere.example/',
    '/apps/bob/lab/',
    '/services/hubapps/api/users',
  ]) {
    it(`keeps next=${next} from leaving the server: the code carries the server prefix instead`, async () => {
      const code = codeOf(await authorize(alice, 'alice', next));
      assert.equal(
        ((await (await redeem(row('alice'), code)).json()) as { next: string }).next,
        '/apps/alice/lab/',
      );
    });
  }

  it("tells alice's proxy that bob's token may not use her server, and that hers may", async () => {
    const tokenOf = async (user: string) =>
      (await stack.api('POST', `/users/${user}/tokens`, {})).body.token as string;
    const ask = (token: string) =>
      service('/services/hubapps/api/internal/proxy-auth', {
        method: 'POST',
        headers: {
          authorization: `Bearer ${row('alice').secret}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ serverId: row('alice').id, token }),
      });
    assert.equal((await ask(await tokenOf('bob'))).status, 403);
    const ok = await ask(await tokenOf('alice'));
    assert.equal(ok.status, 200);
    assert.equal(((await ok.json()) as { user: string }).user, 'alice');
  });

  it('answers 404 for an unknown server and 503 for one that is not running', async () => {
    assert.equal(
      (
        await service(`/services/hubapps/authorize?user=alice&server=nope`, {
          headers: { cookie: alice },
        })
      ).status,
      404,
    );
    await stack.api('DELETE', '/users/bob/servers/lab');
    assert.equal((await authorize(bob, 'bob')).status, 503);
  });

  it('lets a browser from the server URL through authorize and the grant into the app, with nothing but its session', async () => {
    const first = await stack.viaChp('/apps/alice/lab/notebook?x=1', HTML);
    assert.equal(first.status, 302);
    const toAuthorize = new URL(first.headers.get('location')!);
    assert.equal(toAuthorize.origin, new URL(stack.chp.proxyUrl).origin);
    assert.equal(toAuthorize.searchParams.get('next'), '/apps/alice/lab/notebook?x=1');
    const grantCookie = first.headers.get('set-cookie')!.split(';')[0]!;
    assert.match(
      first.headers.get('set-cookie')!,
      /^hubapps-grant-\d+=[\w-]{43}; Path=\/apps\/alice\/lab\/_hubapps\/grant; HttpOnly; SameSite=Lax/,
    );
    const granted = await service(toAuthorize.pathname + toAuthorize.search, {
      headers: { ...HTML, cookie: alice },
    });
    assert.equal(granted.status, 302);
    const elsewhere = await stack.viaChp(granted.headers.get('location')!, HTML);
    assert.equal(elsewhere.status, 403, 'the code worked in a browser without the grant cookie');
    const granted2 = await service(toAuthorize.pathname + toAuthorize.search, {
      headers: { ...HTML, cookie: alice },
    });
    const atProxy = await stack.viaChp(granted2.headers.get('location')!, {
      ...HTML,
      cookie: grantCookie,
    });
    assert.equal(atProxy.status, 302);
    assert.equal(atProxy.headers.get('location'), '/apps/alice/lab/notebook?x=1');
    const cookie = atProxy.headers.get('set-cookie')!.split(';')[0]!;
    const app = await stack.viaChp('/apps/alice/lab/notebook?x=1', { ...HTML, cookie });
    assert.equal(app.status, 200);
    assert.equal(await app.text(), 'app /notebook?x=1');
  });

  it("refuses a code redeemed with another browser's grant cookie, and leaves it usable by its own browser", async () => {
    const code = codeOf(await authorize(alice, 'alice'));
    assert.equal(
      (await redeem(row('alice'), code, row('alice').secret, 'm'.repeat(43))).status,
      403,
    );
    assert.equal((await redeem(row('alice'), code, row('alice').secret, '')).status, 403);
    assert.equal((await redeem(row('alice'), code)).status, 200);
  });

  it('grants only top-level page loads: a frame, a script or a missing binding gets no code', async () => {
    const before = db().prepare('SELECT COUNT(*) FROM codes').pluck().get();
    const url = `/services/hubapps/authorize?${new URLSearchParams({ user: 'alice', server: 'lab', binding: hashSecret(NONCE), next: '/apps/alice/lab/' })}`;
    for (const headers of [
      { 'sec-fetch-dest': 'iframe', 'sec-fetch-mode': 'navigate' },
      { 'sec-fetch-dest': 'empty', 'sec-fetch-mode': 'cors' },
    ]) {
      const res = await service(url, {
        headers: { accept: 'text/html', cookie: alice, ...headers },
      });
      assert.equal(res.status, 403, JSON.stringify(headers));
      assert.equal(res.headers.get('x-frame-options'), 'DENY');
      assert.match(res.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    }
    const unbound = await service(url.replace(/&binding=[^&]+/, ''), {
      headers: { ...HTML, cookie: alice },
    });
    assert.equal(unbound.status, 400);
    assert.equal(db().prepare('SELECT COUNT(*) FROM codes').pluck().get(), before);
  });

  it('refuses the popup sign-in of a framed server (embed=1) while no site may embed servers: 400, no code', async () => {
    const before = db().prepare('SELECT COUNT(*) FROM codes').pluck().get();
    const res = await service(
      `/services/hubapps/authorize?${new URLSearchParams({ user: 'alice', server: 'lab', binding: hashSecret(NONCE), next: '/apps/alice/lab/', embed: '1' })}`,
      { headers: { ...HTML, cookie: alice } },
    );
    assert.equal(res.status, 400);
    assert.match(await res.text(), /app_embedding\.allow/);
    assert.equal(res.headers.get('cross-origin-opener-policy'), 'noopener-allow-popups');
    assert.equal(db().prepare('SELECT COUNT(*) FROM codes').pluck().get(), before);
  });

  it('caps the unredeemed access codes one user may hold at 20, and frees the cap as codes are used', async () => {
    db()
      .prepare('UPDATE codes SET used_at = ? WHERE used_at IS NULL')
      .run(new Date().toISOString());
    const codes: string[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await authorize(alice, 'alice');
      assert.equal(res.status, 302, `code ${i + 1}`);
      codes.push(codeOf(res));
    }
    const refused = await authorize(alice, 'alice');
    assert.equal(refused.status, 429);
    assert.match(await refused.text(), /Too many open requests/);
    assert.equal(
      (await authorize(carol, 'carol')).status,
      404,
      "the cap is per user (carol has no server, but is not refused for alice's codes)",
    );
    assert.equal((await redeem(row('alice'), codes[0]!)).status, 200);
    assert.equal((await authorize(alice, 'alice')).status, 302);
  });

  describe("a job proxy's announcement", () => {
    const ANNOUNCE = '/services/hubapps/api/internal/announce';
    const announce = (r: ServerRow, authorization: string) =>
      service(ANNOUNCE, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json' },
        body: JSON.stringify({ serverId: r.id, host: 'node1', port: 40000, runId: '7' }),
      });

    it("is heard only when signed with the server's secret, once: the bare secret, another server's signature and a replay get 401", async () => {
      const r = row('alice');
      assert.equal((await announce(r, `Bearer ${r.secret}`)).status, 401);
      assert.equal(
        (await announce(r, signCall(row('bob').secret, 'POST', ANNOUNCE).header)).status,
        401,
      );
      const signed = signCall(r.secret, 'POST', ANNOUNCE).header;
      // Heard, then refused by alice's launcher: her server runs on this host and has nothing to announce.
      assert.equal((await announce(r, signed)).status, 409);
      assert.equal((await announce(r, signed)).status, 401);
    });
  });

  describe('session re-validation for proxies', () => {
    const check = (r: ServerRow, session: string, secret = r.secret) =>
      service('/services/hubapps/api/internal/session-check', {
        method: 'POST',
        headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
        body: JSON.stringify({ serverId: r.id, session }),
      });
    const hashOf = (cookie: string) => hashSecret(cookie.split('=')[1]!);

    it("answers 200 for the owner's live session and 403 for another user's, or with another server's secret 401", async () => {
      assert.equal((await check(row('alice'), hashOf(alice))).status, 200);
      assert.equal((await check(row('alice'), hashOf(bob))).status, 403);
      assert.equal((await check(row('alice'), hashOf(alice), row('bob').secret)).status, 401);
      assert.equal((await check(row('alice'), 'made-up')).status, 403);
    });

    it('answers 403 once the session is logged out', async () => {
      const second = await session('alice');
      assert.equal((await check(row('alice'), hashOf(second))).status, 200);
      const { xsrf } = JSON.parse(
        await (await service('/services/hubapps/api/user', { headers: { cookie: second } })).text(),
      ) as { xsrf: string };
      assert.equal(
        (
          await service('/services/hubapps/logout', {
            method: 'POST',
            headers: { cookie: second, 'x-xsrf-token': xsrf },
          })
        ).status,
        200,
      );
      assert.equal((await check(row('alice'), hashOf(second))).status, 403);
    });
  });
});
