import assert from 'node:assert/strict';
import type Database from 'better-sqlite3';
import { hashSecret } from '../../../src/store/auth.js';
import { startLocalStack, type LocalStack } from '../../helpers/stack.js';
import { waitFor } from '../../helpers/wait.js';

/** Answers "app <url>"; no braces, which the catalog would read as placeholders. */
const APP = "require('http').createServer((q, s) => s.end('app ' + q.url)).listen(+process.argv[1], '127.0.0.1')";
const HTML = { accept: 'text/html' };

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
  const row = (user: string) => db().prepare("SELECT id, secret FROM servers WHERE user = ? AND name = 'lab'").get(user) as ServerRow;
  const service = (path: string, init: RequestInit = {}) => fetch(`${stack.service.urls.serviceOrigin}${path}`, { redirect: 'manual', ...init });
  const authorize = (session: string | undefined, user: string, next = `/apps/${user}/lab/x`) =>
    service(`/services/hubapps/authorize?${new URLSearchParams({ user, server: 'lab', next })}`, { headers: session ? { ...HTML, cookie: session } : HTML });
  const redeem = (r: ServerRow, code: string, secret = r.secret) =>
    service('/services/hubapps/api/internal/redeem-grant', {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ serverId: r.id, code }),
    });
  const codeOf = (res: Response) => new URL(res.headers.get('location')!, 'http://x').searchParams.get('code')!;

  async function session(user: string): Promise<string> {
    const link = await stack.api('POST', `/users/${user}/login-links`, {});
    const res = await service(new URL(link.body.url).pathname + new URL(link.body.url).search);
    return res.headers.get('set-cookie')!.split(';')[0]!;
  }

  before(async () => {
    stack = await startLocalStack({
      apps: { lab: { title: 'Lab', command: [process.execPath, '-e', APP, '{port}'] } },
      config: { admin_access: false, admin_users: ['carol'] },
    });
    for (const user of ['alice', 'bob']) {
      assert.equal((await stack.api('POST', `/users/${user}/servers/lab`, { app: 'lab' })).status, 202);
    }
    for (const user of ['alice', 'bob']) {
      await waitFor(async () => (await stack.api('GET', `/users/${user}/servers/lab`)).body.state === 'running', { timeout: 15000, what: `${user}'s server to run` });
    }
    [alice, bob, carol] = [await session('alice'), await session('bob'), await session('carol')];
  });
  after(async () => stack?.stop());

  it('sends a browser without a launcher session to login, and back to authorize afterwards', async () => {
    const res = await authorize(undefined, 'alice');
    assert.equal(res.status, 302);
    const location = new URL(res.headers.get('location')!, 'http://x');
    assert.equal(location.pathname, '/services/hubapps/login');
    assert.match(location.searchParams.get('next')!, /^\/services\/hubapps\/authorize\?user=alice&server=lab&next=/);
  });

  it("gives the owner a 60 s single-use code bound to the server, stored only as a hash, at the proxy's grant endpoint", async () => {
    const res = await authorize(alice, 'alice');
    assert.equal(res.status, 302);
    assert.match(res.headers.get('location')!, /^\/apps\/alice\/lab\/_hubapps\/grant\?code=[\w-]{40,}$/);
    const code = codeOf(res);
    const stored = db().prepare('SELECT * FROM codes WHERE hash = ?').get(hashSecret(code)) as { server_id: number; user: string; created_at: string; expires_at: string };
    assert.equal(stored.server_id, row('alice').id);
    assert.equal(stored.user, 'alice');
    assert.equal(Date.parse(stored.expires_at) - Date.parse(stored.created_at), 60_000);
    assert.equal(db().prepare('SELECT COUNT(*) FROM codes WHERE hash = ?').pluck().get(code), 0);
  });

  it("redeems a code once, only for its own server: another server's proxy can neither use nor burn it", async () => {
    const code = codeOf(await authorize(alice, 'alice', '/apps/alice/lab/tree?x=1'));
    assert.equal((await redeem(row('bob'), code)).status, 403, "bob's proxy redeemed alice's code");
    assert.equal((await redeem(row('alice'), code, row('bob').secret)).status, 401, "the wrong server's secret was accepted");
    const ok = await redeem(row('alice'), code);
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { user: 'alice', admin: false, ttl: 0, next: '/apps/alice/lab/tree?x=1' });
    assert.equal((await redeem(row('alice'), code)).status, 403, 'a code worked twice');
  });

  it('refuses an expired code', async () => {
    const code = codeOf(await authorize(alice, 'alice'));
    db().prepare('UPDATE codes SET expires_at = ? WHERE hash = ?').run(new Date(Date.now() - 1000).toISOString(), hashSecret(code));
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

  for (const next of ['https://elsewhere.example/', '//elsewhere.example/', '/apps/bob/lab/', '/services/hubapps/api/users']) {
    it(`keeps next=${next} from leaving the server: the code carries the server prefix instead`, async () => {
      const code = codeOf(await authorize(alice, 'alice', next));
      assert.equal(((await (await redeem(row('alice'), code)).json()) as { next: string }).next, '/apps/alice/lab/');
    });
  }

  it("tells alice's proxy that bob's token may not use her server, and that hers may", async () => {
    const tokenOf = async (user: string) => (await stack.api('POST', `/users/${user}/tokens`, {})).body.token as string;
    const ask = (token: string) =>
      service('/services/hubapps/api/internal/proxy-auth', {
        method: 'POST',
        headers: { authorization: `Bearer ${row('alice').secret}`, 'content-type': 'application/json' },
        body: JSON.stringify({ serverId: row('alice').id, token }),
      });
    assert.equal((await ask(await tokenOf('bob'))).status, 403);
    const ok = await ask(await tokenOf('alice'));
    assert.equal(ok.status, 200);
    assert.equal(((await ok.json()) as { user: string }).user, 'alice');
  });

  it('answers 404 for an unknown server and 503 for one that is not running', async () => {
    assert.equal((await service(`/services/hubapps/authorize?user=alice&server=nope`, { headers: { cookie: alice } })).status, 404);
    await stack.api('DELETE', '/users/bob/servers/lab');
    assert.equal((await authorize(bob, 'bob')).status, 503);
  });

  it('lets a browser from the server URL through authorize and the grant into the app, with nothing but its session', async () => {
    const first = await stack.viaChp('/apps/alice/lab/notebook?x=1', HTML);
    assert.equal(first.status, 302);
    const toAuthorize = new URL(first.headers.get('location')!);
    assert.equal(toAuthorize.origin, new URL(stack.chp.proxyUrl).origin);
    assert.equal(toAuthorize.searchParams.get('next'), '/apps/alice/lab/notebook?x=1');
    const granted = await service(toAuthorize.pathname + toAuthorize.search, { headers: { ...HTML, cookie: alice } });
    assert.equal(granted.status, 302);
    const atProxy = await stack.viaChp(granted.headers.get('location')!, HTML);
    assert.equal(atProxy.status, 302);
    assert.equal(atProxy.headers.get('location'), '/apps/alice/lab/notebook?x=1');
    const cookie = atProxy.headers.get('set-cookie')!.split(';')[0]!;
    const app = await stack.viaChp('/apps/alice/lab/notebook?x=1', { ...HTML, cookie });
    assert.equal(app.status, 200);
    assert.equal(await app.text(), 'app /notebook?x=1');
  });
});
