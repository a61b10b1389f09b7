import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type Database from 'better-sqlite3';
import { hashSecret } from '../../../src/secret-hash.js';
import { startLocalStack, type LocalStack } from '../../helpers/stack.js';

/**
 * The OAuth client against a small stand-in for JupyterHub's three endpoints, for the
 * failure paths a real hub will not produce on demand (it refuses a code, it is down).
 * test/e2e/jupyterhub.test.ts runs the same login against Debian's JupyterHub.
 */
interface FakeHub {
  url: string;
  tokenRequests: URLSearchParams[];
  down: boolean;
  close(): Promise<void>;
}

async function startFakeHub(): Promise<FakeHub> {
  const hub: FakeHub = { url: '', tokenRequests: [], down: false, close: async () => undefined };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (hub.down) return res.destroy();
      const json = (status: number, value: unknown) =>
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
      if (req.url === '/hub/api/') return json(200, { version: 'fake' });
      if (req.url === '/hub/api/oauth2/token' && req.method === 'POST') {
        const form = new URLSearchParams(body);
        hub.tokenRequests.push(form);
        if (form.get('code') !== 'good-code') return json(400, { error: 'invalid_grant' });
        return json(200, { access_token: 'access-1', token_type: 'Bearer' });
      }
      if (req.url === '/hub/api/user' && req.headers.authorization === 'token access-1')
        return json(200, { name: 'alice', admin: false, groups: [] });
      json(404, { status: 404 });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  hub.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  hub.close = () => new Promise((resolve) => server.close(() => resolve()));
  return hub;
}

describe('api: login through JupyterHub OAuth', function () {
  this.timeout(30000);
  let stack: LocalStack;
  let hub: FakeHub;
  const clientSecret = randomBytes(18).toString('base64url');
  const db = () => (stack.service.deps.store as unknown as { db: Database.Database }).db;
  const service = (path: string, cookie?: string) =>
    fetch(`${stack.service.urls.serviceOrigin}${path}`, {
      redirect: 'manual',
      headers: cookie ? { cookie } : {},
    });
  /** The state cookie of the browser that started each login, by state. */
  const browsers = new Map<string, string>();

  async function startLogin(next: string): Promise<URL> {
    const res = await service(`/services/hubapps/login?next=${encodeURIComponent(next)}`);
    assert.equal(res.status, 302);
    const to = new URL(res.headers.get('location')!);
    browsers.set(to.searchParams.get('state')!, res.headers.get('set-cookie')!.split(';')[0]!);
    return to;
  }
  const callback = (code: string, state: string, cookie = browsers.get(state)) =>
    service(
      `/services/hubapps/oauth_callback?code=${code}&state=${encodeURIComponent(state)}`,
      cookie,
    );

  before(async () => {
    hub = await startFakeHub();
    const secretVar = `HUBAPPS_T_HUB_${process.pid}`;
    process.env[secretVar] = clientSecret;
    stack = await startLocalStack({
      apps: {},
      config: { jupyterhub: { api_url: `${hub.url}/hub/api`, api_token: `env:${secretVar}` } },
    });
  });
  after(async () => {
    await stack?.stop();
    await hub?.close();
  });

  it("sends the browser to the hub's authorize page with the client id, the exact redirect_uri, a state and an S256 PKCE challenge", async () => {
    const to = await startLogin('/services/hubapps/?x=1');
    const publicOrigin = new URL(stack.chp.proxyUrl).origin;
    assert.equal(`${to.origin}${to.pathname}`, `${publicOrigin}/hub/api/oauth2/authorize`);
    assert.equal(to.searchParams.get('client_id'), 'service-hubapps');
    assert.equal(to.searchParams.get('response_type'), 'code');
    assert.equal(
      to.searchParams.get('redirect_uri'),
      `${publicOrigin}/services/hubapps/oauth_callback`,
    );
    assert.equal(to.searchParams.get('code_challenge_method'), 'S256');
    const state = to.searchParams.get('state')!;
    assert.match(state, /^[\w-]{40,}$/);
    assert.match(browsers.get(state)!, /^hubapps-oauth-[\w-]{16}=1$/);
    assert.equal(
      db()
        .prepare('SELECT COUNT(*) FROM oauth_states WHERE hash = ?')
        .pluck()
        .get(hashSecret(state)),
      1,
    );
    assert.equal(
      db().prepare('SELECT COUNT(*) FROM oauth_states WHERE hash = ?').pluck().get(state),
      0,
      'the state is stored in clear',
    );
  });

  it('exchanges the code with the client secret in the body and the PKCE verifier, then opens a session and goes on to next', async () => {
    const to = await startLogin('/services/hubapps/?x=1');
    const res = await callback('good-code', to.searchParams.get('state')!);
    assert.equal(res.status, 302);
    assert.equal(res.headers.get('location'), '/services/hubapps/?x=1');
    const cookies = res.headers.getSetCookie();
    assert.ok(
      cookies.some((c) =>
        /^hubapps-session=[\w-]+; Path=\/services\/hubapps\/; HttpOnly; SameSite=Lax/.test(c),
      ),
      cookies.join('\n'),
    );
    assert.ok(
      cookies.some(
        (c) =>
          c.startsWith(`${browsers.get(to.searchParams.get('state')!)!.split('=')[0]}=;`) &&
          c.includes('Max-Age=0'),
      ),
      'the state cookie stays',
    );
    const sent = hub.tokenRequests.at(-1)!;
    assert.equal(sent.get('grant_type'), 'authorization_code');
    assert.equal(sent.get('client_id'), 'service-hubapps');
    assert.equal(sent.get('client_secret'), clientSecret);
    assert.equal(sent.get('redirect_uri'), to.searchParams.get('redirect_uri'));
    const challenge = createHash('sha256').update(sent.get('code_verifier')!).digest('base64url');
    assert.equal(challenge, to.searchParams.get('code_challenge'));
  });

  it('refuses a callback whose state is unknown or already used, with a page that offers to log in again', async () => {
    const to = await startLogin('/services/hubapps/');
    const state = to.searchParams.get('state')!;
    assert.equal((await callback('good-code', state)).status, 302);
    for (const s of [state, 'made-up-state']) {
      const again = await callback('good-code', s);
      assert.equal(again.status, 400);
      assert.match(await again.text(), /expired, was already used/);
    }
  });

  it('refuses a callback in a browser that did not start the login (login CSRF), and still completes it in the one that did', async () => {
    const to = await startLogin('/services/hubapps/');
    const state = to.searchParams.get('state')!;
    const elsewhere = await callback('good-code', state, 'theme=dark');
    assert.equal(elsewhere.status, 400);
    assert.ok(
      !elsewhere.headers.getSetCookie().some((c) => c.startsWith('hubapps-session=')),
      'a session was opened in the wrong browser',
    );
    const here = await callback('good-code', state);
    assert.equal(here.status, 302);
    assert.ok(here.headers.getSetCookie().some((c) => c.startsWith('hubapps-session=')));
  });

  it('keeps next=https://elsewhere.example/ on this host', async () => {
    const to = await startLogin('https://elsewhere.example/');
    const res = await callback('good-code', to.searchParams.get('state')!);
    assert.equal(res.headers.get('location'), '/services/hubapps/');
  });

  it('shows a page, not JSON or a stack, when the hub refuses the code', async () => {
    const to = await startLogin('/services/hubapps/');
    const res = await callback('bad-code', to.searchParams.get('state')!);
    assert.equal(res.status, 502);
    assert.match(res.headers.get('content-type')!, /^text\/html/);
    const text = await res.text();
    assert.match(text, /Login failed/);
    assert.ok(!res.headers.getSetCookie().some((c) => c.startsWith('hubapps-session=')));
  });

  it('says JupyterHub is not available, instead of sending the browser to a dead hub, when it does not answer', async () => {
    hub.down = true;
    try {
      const res = await service('/services/hubapps/login');
      assert.equal(res.status, 503);
      assert.match(await res.text(), /JupyterHub is not available/);
    } finally {
      hub.down = false;
    }
  });
});

describe('api: the OAuth state cookie of a hub served over https', function () {
  this.timeout(30000);
  let stack: LocalStack;
  let hub: FakeHub;

  before(async () => {
    hub = await startFakeHub();
    const secretVar = `HUBAPPS_T_HUB_HTTPS_${process.pid}`;
    process.env[secretVar] = randomBytes(18).toString('base64url');
    stack = await startLocalStack({
      apps: {},
      config: {
        public_url: 'https://hub.example.org',
        jupyterhub: { api_url: `${hub.url}/hub/api`, api_token: `env:${secretVar}` },
      },
    });
  });
  after(async () => {
    await stack?.stop();
    await hub?.close();
  });

  it('is a __Host- cookie, so one tossed in by a sibling host (no prefix, or a second copy) completes no login', async () => {
    const origin = stack.service.urls.serviceOrigin;
    const res = await fetch(`${origin}/services/hubapps/login`, { redirect: 'manual' });
    assert.equal(res.status, 302);
    const set = res.headers.get('set-cookie')!;
    assert.match(
      set,
      /^__Host-hubapps-oauth-[\w-]{16}=1; Path=\/; HttpOnly; SameSite=Lax; Secure; Max-Age=600$/,
    );
    const name = set.slice(0, set.indexOf('='));
    const state = new URL(res.headers.get('location')!).searchParams.get('state')!;
    const callback = (cookie: string) =>
      fetch(
        `${origin}/services/hubapps/oauth_callback?code=good-code&state=${encodeURIComponent(state)}`,
        { redirect: 'manual', headers: { cookie } },
      );
    assert.equal(
      (await callback(`${name.slice('__Host-'.length)}=1`)).status,
      400,
      'a cookie without the prefix was trusted',
    );
    assert.equal(
      (await callback(`${name}=1; ${name}=1`)).status,
      400,
      'two copies of the state cookie were trusted',
    );
    const own = await callback(`${name}=1`);
    assert.equal(own.status, 302);
    assert.match(own.headers.get('set-cookie') ?? '', /hubapps-session=/);
  });
});

describe('api: login through JupyterHub with jupyterhub.usernames: mapped', function () {
  this.timeout(30000);
  let hub: FakeHub;
  const stacks: LocalStack[] = [];
  const mappedStack = async (map: Record<string, string>) => {
    const secretVar = `HUBAPPS_T_HUB_MAP_${process.pid}_${stacks.length}`;
    process.env[secretVar] = randomBytes(18).toString('base64url');
    const stack = await startLocalStack({
      apps: {},
      config: {
        jupyterhub: {
          api_url: `${hub.url}/hub/api`,
          api_token: `env:${secretVar}`,
          usernames: 'mapped',
          username_map: map,
        },
      },
    });
    stacks.push(stack);
    return stack;
  };
  /** A whole login as the fake hub's alice; the callback's answer. */
  async function login(stack: LocalStack): Promise<Response> {
    const origin = stack.service.urls.serviceOrigin;
    const start = await fetch(`${origin}/services/hubapps/login`, { redirect: 'manual' });
    const state = new URL(start.headers.get('location')!).searchParams.get('state')!;
    const cookie = start.headers.get('set-cookie')!.split(';')[0]!;
    return fetch(
      `${origin}/services/hubapps/oauth_callback?code=good-code&state=${encodeURIComponent(state)}`,
      { redirect: 'manual', headers: { cookie } },
    );
  }

  before(async () => {
    hub = await startFakeHub();
  });
  after(async () => {
    for (const stack of stacks) await stack.stop();
    await hub?.close();
  });

  it("opens the session as the account the map gives the hub's user", async () => {
    const stack = await mappedStack({ alice: 'amapped' });
    const res = await login(stack);
    assert.equal(res.status, 302);
    const session = res.headers
      .getSetCookie()
      .find((c) => c.startsWith('hubapps-session='))!
      .split(';')[0]!;
    const me = await fetch(`${stack.service.urls.serviceOrigin}/services/hubapps/api/user`, {
      headers: { cookie: session },
    });
    assert.equal(((await me.json()) as { name: string }).name, 'amapped');
  });

  it('refuses a hub user the map does not list, with a page, and opens no session', async () => {
    const stack = await mappedStack({ 'bob@example.org': 'bob' });
    const res = await login(stack);
    assert.equal(res.status, 403);
    assert.match(
      await res.text(),
      /logged in to JupyterHub as <b>alice<\/b>, but that name is not one of this host's accounts/,
    );
    assert.equal(
      res.headers.getSetCookie().some((c) => c.startsWith('hubapps-session=')),
      false,
    );
  });
});
