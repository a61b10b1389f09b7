import { httpFetch } from '../../helpers/http-fetch.js';
import { useLoginLink } from '../../helpers/login-link.js';
import assert from 'node:assert/strict';
import { hashSecret } from '../../../src/secret-hash.js';
import { startLocalStack, type LocalStack } from '../../helpers/stack.js';

describe('api: API tokens, login links and sessions', function () {
  this.timeout(30000);
  let stack: LocalStack;
  before(
    async () => (stack = await startLocalStack({ apps: {}, config: { admin_access: false } })),
  );
  after(async () => stack?.stop());

  const asUser = (token: string) => ({ authorization: `token ${token}` });
  const db = () =>
    (stack.service.deps.store as unknown as { db: import('better-sqlite3').Database }).db;

  it('creates a token that is shown once, stored only as a hash, and acts as its user', async () => {
    const r = await stack.api('POST', '/users/alice/tokens', { note: 'laptop', expires_in: 3600 });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const token: string = r.body.token;
    assert.match(token, /^ha_/);
    const stored = db().prepare('SELECT hash FROM tokens WHERE id = ?').pluck().get(r.body.id);
    assert.equal(stored, hashSecret(token));
    assert.ok(!JSON.stringify(db().prepare('SELECT * FROM tokens').all()).includes(token));
    const me = await stack.api('GET', '/user', undefined, asUser(token));
    assert.equal(me.body.name, 'alice');
    assert.equal(me.body.admin, false);
    const list = await stack.api('GET', '/users/alice/tokens', undefined, asUser(token));
    assert.equal(list.body.tokens.length, 1);
    assert.equal(list.body.tokens[0].token, undefined);
    assert.ok(list.body.tokens[0].last_used);
  });

  it("refuses alice's token on bob's servers and on admin routes", async () => {
    const { body } = await stack.api('POST', '/users/alice/tokens', {});
    assert.equal((await stack.api('GET', '/users/bob', undefined, asUser(body.token))).status, 403);
    assert.equal(
      (await stack.api('POST', '/users/bob/servers/x', { app: 'x' }, asUser(body.token))).status,
      403,
    );
    assert.equal((await stack.api('GET', '/users', undefined, asUser(body.token))).status, 403);
    assert.equal((await stack.api('GET', '/events', undefined, asUser(body.token))).status, 403);
    assert.equal(
      (await stack.api('POST', '/users/alice/login-links', {}, asUser(body.token))).status,
      403,
    );
  });

  it('stops accepting a deleted token', async () => {
    const { body } = await stack.api('POST', '/users/alice/tokens', {});
    assert.equal(
      (await stack.api('DELETE', `/users/alice/tokens/${body.id}`, undefined, asUser(body.token)))
        .status,
      204,
    );
    assert.equal((await stack.api('GET', '/user', undefined, asUser(body.token))).status, 401);
  });

  it('refuses bad token requests with 400', async () => {
    assert.equal((await stack.api('POST', '/users/alice/tokens', { expires_in: -1 })).status, 400);
    assert.equal(
      (await stack.api('POST', '/users/alice/tokens', { note: 'x'.repeat(500) })).status,
      400,
    );
    assert.equal((await stack.api('POST', '/users/alice/tokens', [])).status, 400);
  });

  it('turns a login link into a session cookie once, and drops the code from the address bar', async () => {
    const link = await stack.api('POST', '/users/alice/login-links', {
      next: '/services/hubapps/?x=1',
    });
    assert.equal(link.status, 201, JSON.stringify(link.body));
    const path = new URL(link.body.url).pathname + new URL(link.body.url).search;
    const shown = await fetch(`${stack.service.urls.serviceOrigin}${path}`, { redirect: 'manual' });
    assert.equal(shown.status, 200, 'opening the link only shows its button');
    assert.equal(shown.headers.get('set-cookie'), null);
    const first = await useLoginLink(stack.service.urls.serviceOrigin, link.body.url);
    assert.equal(first.status, 302);
    assert.equal(first.headers.get('location'), '/services/hubapps/?x=1');
    const cookie = first.headers.get('set-cookie')!;
    assert.match(
      cookie,
      /^hubapps-session=[\w-]+; Path=\/services\/hubapps\/; HttpOnly; SameSite=Lax/,
    );
    const session = cookie.split(';')[0]!;
    const me = await fetch(`${stack.service.urls.serviceOrigin}/services/hubapps/api/user`, {
      headers: { cookie: session },
    });
    assert.equal(((await me.json()) as { name: string }).name, 'alice');
    const again = await useLoginLink(stack.service.urls.serviceOrigin, link.body.url);
    assert.equal(again.status, 400, 'a login link worked twice');
  });

  it('refuses cookie-authenticated state changes from another site, accepts them with the XSRF token', async () => {
    const link = await stack.api('POST', '/users/alice/login-links', {});
    const first = await useLoginLink(stack.service.urls.serviceOrigin, link.body.url);
    const session = first.headers.get('set-cookie')!.split(';')[0]!;
    const base = `${stack.service.urls.serviceOrigin}/services/hubapps/api`;
    const me = (await (await fetch(`${base}/user`, { headers: { cookie: session } })).json()) as {
      xsrf: string;
    };
    const post = (headers: Record<string, string>) =>
      fetch(`${base}/users/alice/tokens`, {
        method: 'POST',
        headers: { cookie: session, 'content-type': 'application/json', ...headers },
        body: '{}',
      });
    assert.equal((await post({ origin: 'https://evil.example' })).status, 403);
    assert.equal((await post({})).status, 403);
    assert.equal((await post({ 'x-xsrf-token': 'wrong' })).status, 403);
    assert.equal((await post({ 'x-xsrf-token': me.xsrf })).status, 201);
    // On the shared origin, Origin alone could be any user's app page: the Referer must name a launcher page.
    const origin = new URL(stack.chp.proxyUrl).origin;
    assert.equal((await post({ origin })).status, 403);
    const fromLauncher = await httpFetch(`${base}/users/alice/tokens`, {
      method: 'POST',
      headers: {
        cookie: session,
        'content-type': 'application/json',
        origin,
        referer: `${origin}/services/hubapps/`,
        'sec-fetch-site': 'same-origin',
        'sec-fetch-mode': 'cors',
      },
      body: '{}',
    });
    assert.equal(fromLauncher.status, 201);
    const fromApp = await httpFetch(`${base}/users/alice/tokens`, {
      method: 'POST',
      headers: {
        cookie: session,
        'content-type': 'application/json',
        'x-xsrf-token': me.xsrf,
        origin,
        referer: `${origin}/apps/bob/lab/`,
        'sec-fetch-site': 'same-origin',
        'sec-fetch-mode': 'cors',
      },
      body: '{}',
    });
    assert.equal(
      fromApp.status,
      403,
      "another user's app page created a token, even with the XSRF token",
    );
  });

  it('ends the session only by a POST with its XSRF token: GET /logout shows a button, a link or a foreign form logs nobody out', async () => {
    const link = await stack.api('POST', '/users/alice/login-links', {});
    const first = await useLoginLink(stack.service.urls.serviceOrigin, link.body.url);
    const session = first.headers.get('set-cookie')!.split(';')[0]!;
    const logout = `${stack.service.urls.serviceOrigin}/services/hubapps/logout`;
    const alive = async () =>
      (
        await fetch(`${stack.service.urls.serviceOrigin}/services/hubapps/api/user`, {
          headers: { cookie: session },
        })
      ).status === 200;
    const nav = {
      accept: 'text/html',
      'sec-fetch-mode': 'navigate',
      'sec-fetch-dest': 'document',
      cookie: session,
    };

    const pageAnswer = await httpFetch(logout, { headers: nav });
    assert.equal(pageAnswer.status, 200);
    const html = await pageAnswer.text();
    assert.match(
      html,
      /<form method="post" action="\/services\/hubapps\/logout">.*<button type="submit">Log out<\/button>/s,
    );
    const xsrf = /name="_xsrf" value="([^"]+)"/.exec(html)![1]!;
    assert.equal(await alive(), true, 'GET /logout ended the session');
    assert.equal(
      (
        await httpFetch(logout, {
          headers: {
            cookie: session,
            accept: 'image/*',
            'sec-fetch-mode': 'no-cors',
            'sec-fetch-dest': 'image',
            'sec-fetch-site': 'same-origin',
            referer: 'http://127.0.0.1/apps/bob/lab/',
          },
        })
      ).status,
      403,
    );

    const form = { ...nav, 'content-type': 'application/x-www-form-urlencoded' };
    assert.equal(
      (await httpFetch(logout, { method: 'POST', headers: form, body: '' })).status,
      403,
    );
    assert.equal(
      (await httpFetch(logout, { method: 'POST', headers: form, body: '_xsrf=wrong' })).status,
      403,
    );
    assert.equal(await alive(), true, 'a POST without the XSRF token ended the session');

    const done = await httpFetch(logout, {
      method: 'POST',
      headers: form,
      body: `_xsrf=${encodeURIComponent(xsrf)}`,
    });
    assert.equal(done.status, 200);
    assert.match(done.headers.get('set-cookie') ?? '', /hubapps-session=;/);
    assert.equal(await alive(), false);
  });

  it('refuses a request that carries two hubapps-session cookies, as when another site tossed one in', async () => {
    const mine = async () => {
      const link = await stack.api('POST', '/users/alice/login-links', {});
      return (await useLoginLink(stack.service.urls.serviceOrigin, link.body.url)).headers
        .get('set-cookie')!
        .split(';')[0]!;
    };
    const [own, planted] = [await mine(), await mine()];
    const me = (cookie: string) =>
      fetch(`${stack.service.urls.serviceOrigin}/services/hubapps/api/user`, {
        headers: { cookie },
      });
    assert.equal((await me(own)).status, 200);
    const both = await me(`${planted}; ${own}`);
    assert.equal(both.status, 400);
    assert.match(((await both.json()) as { message: string }).message, /2 hubapps-session cookies/);
  });

  it('stores sessions only as hashes', async () => {
    const link = await stack.api('POST', '/users/alice/login-links', {});
    const first = await useLoginLink(stack.service.urls.serviceOrigin, link.body.url);
    const value = first.headers.get('set-cookie')!.split(';')[0]!.split('=')[1]!;
    assert.equal(
      db().prepare('SELECT COUNT(*) FROM sessions WHERE hash = ?').pluck().get(hashSecret(value)),
      1,
    );
    assert.equal(
      db().prepare('SELECT COUNT(*) FROM sessions WHERE hash = ?').pluck().get(value),
      0,
    );
  });

  describe('browser requests with the launcher cookie come only from launcher pages', () => {
    let session = '';
    let origin = '';
    const get = (path: string, headers: Record<string, string>) =>
      httpFetch(`${stack.service.urls.serviceOrigin}/services/hubapps${path}`, {
        headers: { cookie: session, ...headers },
      });
    const fromPage = (page: string, extra: Record<string, string> = {}) => ({
      'sec-fetch-site': 'same-origin',
      'sec-fetch-mode': 'cors',
      'sec-fetch-dest': 'empty',
      referer: `${origin}${page}`,
      ...extra,
    });
    before(async () => {
      const link = await stack.api('POST', '/users/alice/login-links', {});
      session = (await useLoginLink(stack.service.urls.serviceOrigin, link.body.url)).headers
        .get('set-cookie')!
        .split(';')[0]!;
      origin = new URL(stack.chp.proxyUrl).origin;
    });

    it("answers a launcher page's fetch, refuses another page's on this origin, and one that hid its Referer", async () => {
      assert.equal((await get('/api/user', fromPage('/services/hubapps/'))).status, 200);
      assert.equal((await get('/api/user', fromPage('/apps/bob/www/page.html'))).status, 403);
      const hidden = await get('/api/user', {
        'sec-fetch-site': 'same-origin',
        'sec-fetch-mode': 'cors',
        'sec-fetch-dest': 'empty',
      });
      assert.equal(hidden.status, 403);
      assert.match(await hidden.text(), /only from the launcher page/);
    });

    it('answers a page load of an API address from a link on another site or a typed address, not from another page on this origin', async () => {
      const nav = { 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' };
      assert.equal((await get('/api/user', { ...nav, 'sec-fetch-site': 'none' })).status, 200);
      assert.equal(
        (await get('/api/user', { ...nav, 'sec-fetch-site': 'cross-site' })).status,
        200,
      );
      assert.equal(
        (
          await get('/api/user', {
            ...nav,
            'sec-fetch-site': 'same-origin',
            referer: `${origin}/apps/bob/www/`,
          })
        ).status,
        403,
      );
    });

    it('logs nobody in when a login link is posted from another page', async () => {
      const link = await stack.api('POST', '/users/alice/login-links', {});
      const res = await useLoginLink(stack.service.urls.serviceOrigin, link.body.url);
      await res.body?.cancel();
      const other = await stack.api('POST', '/users/alice/login-links', {});
      const foreign = await useLoginLink(stack.service.urls.serviceOrigin, other.body.url, {
        origin,
        referer: `${origin}/apps/bob/www/`,
      });
      assert.equal(foreign.status, 403);
      assert.equal(foreign.headers.get('set-cookie'), null);
      assert.equal(
        (await useLoginLink(stack.service.urls.serviceOrigin, other.body.url)).status,
        302,
        'the refused post left the link usable',
      );
    });

    it('sends every answer with frame-ancestors none, X-Frame-Options DENY and its own browsing context group', async () => {
      for (const path of [
        '/',
        '/login-link?code=x',
        '/authorize?user=alice&server=nope',
        '/api/user',
      ]) {
        const res = await get(path, {});
        assert.equal(res.headers.get('x-frame-options'), 'DENY', path);
        assert.match(
          res.headers.get('content-security-policy') ?? '',
          /frame-ancestors 'none'/,
          path,
        );
        assert.equal(res.headers.get('cross-origin-opener-policy'), 'noopener-allow-popups', path);
      }
    });
  });
});
