import assert from 'node:assert/strict';
import { echoApp } from '../apps.js';
import {
  Catalog,
  browserLogin,
  startFakeService,
  startProxy,
  type FakeService,
  type RunningProxy,
} from '../../../unit/proxy/harness.js';
import { startEchoProxy, tearDown } from '../bed.js';

interface Echoed {
  url: string;
  headers: Record<string, string>;
}

describe('hubapps-proxy access control', () => {
  let catalog: Catalog;
  let service: FakeService;
  let proxy: RunningProxy;
  const base = '/apps/alice/echo/';

  before(async () => ({ catalog, service, proxy } = await startEchoProxy()));
  after(() => tearDown({ catalog, service, proxy }));

  it('answers a request without credential with 401 JSON saying how to log in', async () => {
    const answer = await proxy.get(`${base}page`);
    assert.equal(answer.status, 401);
    assert.equal(answer.headers['content-type'], 'application/json');
    assert.match(JSON.parse(answer.body).message, /'Authorization: token YOUR_API_TOKEN'/);
  });

  it('shows a browser form post without credential an HTML page with the login hint and a link to the launcher', async () => {
    const answer = await proxy.get(
      `${base}page`,
      { accept: 'text/html,application/xhtml+xml' },
      'POST',
    );
    assert.equal(answer.status, 401);
    assert.match(answer.headers['content-type']!, /^text\/html/);
    assert.match(answer.body, /log in through the launcher/);
    assert.match(answer.body, /href="https:\/\/hub\.example\.org\/services\/hubapps\/"/);
  });

  it('refuses an unknown token with 403', async () => {
    const answer = await proxy.get(`${base}page`, { authorization: 'token not-a-token' });
    assert.equal(answer.status, 403);
  });

  it("refuses another user's valid token with 403", async () => {
    const answer = await proxy.get(`${base}page`, { authorization: 'token bob-token' });
    assert.equal(answer.status, 403);
  });

  it("lets the owner's token through and strips the Authorization header before the app", async () => {
    const answer = await proxy.get(`${base}page`, { authorization: 'Bearer alice-token' });
    assert.equal(answer.status, 200);
    const echoed = JSON.parse(answer.body) as Echoed;
    assert.equal(echoed.url, '/page');
    assert.equal(echoed.headers.authorization, undefined);
  });

  it("lets an admin's token through", async () => {
    const answer = await proxy.get(`${base}page`, { authorization: 'token admin-token' });
    assert.equal(answer.status, 200);
  });

  it('asks the service with the server secret and caches the answer', async () => {
    const before = service.calls.length;
    for (let i = 0; i < 3; i++)
      assert.equal(
        (await proxy.get(`${base}cached`, { authorization: 'token alice-token' })).status,
        200,
      );
    const calls = service.calls.slice(before);
    assert.ok(calls.length <= 1, `expected at most one check, got ${calls.length}`);
    const any = service.calls.find((c) => c.body.token === 'alice-token')!;
    assert.equal(any.authorization, `Bearer ${proxy.spec.secret}`);
    assert.equal(any.body.serverId, 7);
  });

  it('never turns ?token= into a cookie: a browser with a valid token in the URL goes through authorize, a script gets 401', async () => {
    const browser = await proxy.get(`${base}notebook?a=1&token=alice-token&b=2`, {
      accept: 'text/html',
    });
    assert.equal(browser.status, 302);
    assert.match(browser.headers.location!, /\/services\/hubapps\/authorize\?/);
    assert.ok(
      !browser.headers.location!.includes('alice-token'),
      'the token travelled on to authorize',
    );
    assert.ok(
      (browser.headers['set-cookie'] ?? []).every((c) => !c.startsWith('hubapps-proxy-')),
      'a session cookie came from a URL token',
    );
    const script = await proxy.get(`${base}x?token=alice-token`);
    assert.equal(script.status, 401);
  });

  it('sets its session cookie HttpOnly, SameSite=Lax, Secure and scoped to the server, and strips it before the app', async () => {
    const session = await browserLogin(proxy, service);
    const next = await proxy.get(`${base}notebook?a=1&b=2`, {
      cookie: `theme=dark; ${session}; lang=en`,
    });
    assert.equal(next.status, 200);
    const echoed = JSON.parse(next.body) as Echoed;
    assert.equal(echoed.url, '/notebook?a=1&b=2');
    assert.equal(
      echoed.headers.cookie,
      'theme=dark; lang=en',
      'the proxy cookie is stripped, others pass',
    );
  });

  it('never passes a hubapps token on to the app, in the URL or in an Authorization header that came with the cookie', async () => {
    const session = await browserLogin(proxy, service);
    const answer = await proxy.get(`${base}x?token=admin-token&q=1`, {
      cookie: session,
      authorization: 'token ha_someonestoken',
    });
    assert.equal(answer.status, 200);
    const echoed = JSON.parse(answer.body) as Echoed;
    assert.equal(echoed.url, '/x?q=1');
    assert.equal(echoed.headers.authorization, undefined);
    const own = await proxy.get(`${base}x`, {
      cookie: session,
      authorization: 'Basic YXBwOnBhc3M=',
    });
    assert.equal(
      (JSON.parse(own.body) as Echoed).headers.authorization,
      'Basic YXBwOnBhc3M=',
      "the app's own credentials pass",
    );
  });

  it('refuses a made-up session cookie', async () => {
    const answer = await proxy.get(`${base}x`, { cookie: 'hubapps-proxy-7=forged' });
    assert.equal(answer.status, 401);
  });

  it('does not count refused requests as activity', async () => {
    const report = await proxy.report();
    const before = report.lastActivity;
    await proxy.get(`${base}nothing`);
    assert.equal((await proxy.report()).lastActivity, before);
  });

  it('never writes the secret, a token or a session to its log', async () => {
    const session = (await browserLogin(proxy, service)).split('=')[1]!;
    await proxy.get(`${base}log?token=alice-token`);
    await proxy.get(`${base}../x?token=admin-token`);
    const log = proxy.output();
    assert.match(log, /ready after/);
    for (const secret of [
      proxy.spec.secret,
      'alice-token',
      'admin-token',
      'bob-token',
      'not-a-token',
      session,
    ]) {
      assert.ok(!log.includes(secret), `the log contains ${secret.slice(0, 8)}…`);
    }
  });
});

describe('hubapps-proxy when the service does not answer token checks', () => {
  it('answers 503 instead of letting the request through', async () => {
    const catalog = await Catalog.create();
    const service = await startFakeService();
    echoApp(catalog, 'echo');
    const proxy = await startProxy({ catalog, app: 'echo', service });
    try {
      await proxy.ready();
      await service.close();
      const answer = await proxy.get('/apps/alice/echo/', { authorization: 'token alice-token' });
      assert.equal(answer.status, 503);
      assert.match(answer.body, /cannot check the token/);
    } finally {
      await proxy.kill();
      await catalog.remove();
    }
  });
});
