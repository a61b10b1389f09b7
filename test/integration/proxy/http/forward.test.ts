import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { echoApp } from '../apps.js';
import {
  Catalog,
  startFakeService,
  startProxy,
  type FakeService,
  type RunningProxy,
} from '../../../unit/proxy/harness.js';
import { startEchoProxy, tearDown } from '../bed.js';

interface Echoed {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string;
}

const AUTH = { authorization: 'token alice-token' };

describe('hubapps-proxy forwarding with strip_prefix: true', () => {
  let catalog: Catalog;
  let service: FakeService;
  let proxy: RunningProxy;
  const base = '/apps/alice/echo/';

  before(async () => ({ catalog, service, proxy } = await startEchoProxy()));
  after(() => tearDown({ catalog, service, proxy }));

  it("forwards the path without the prefix and sets the X-Forwarded headers, replacing the client's own", async () => {
    const forged = {
      'x-forwarded-for': '203.0.113.9',
      'x-forwarded-host': 'evil.example',
      'x-forwarded-proto': 'gopher',
      'x-forwarded-port': '1',
      forwarded: 'for=203.0.113.9;host=evil.example',
      'x-real-ip': '203.0.113.9',
    };
    const answer = await proxy.get(`${base}some/page?x=1`, { ...AUTH, ...forged });
    assert.equal(answer.status, 200);
    const echoed = JSON.parse(answer.body) as Echoed;
    assert.equal(echoed.url, '/some/page?x=1');
    assert.equal(echoed.headers['x-forwarded-prefix'], '/apps/alice/echo');
    assert.equal(echoed.headers['x-forwarded-proto'], 'https');
    assert.equal(echoed.headers['x-forwarded-host'], 'hub.example.org');
    assert.equal(
      echoed.headers['x-forwarded-for'],
      '127.0.0.1',
      'the peer the proxy saw, nothing the client claimed',
    );
    for (const name of ['x-forwarded-port', 'forwarded', 'x-real-ip'])
      assert.equal(echoed.headers[name], undefined, name);
  });

  it("adds the framing policy to the app's answers: frames only from the same origin (the proxy checks the page), no opener handle", async () => {
    const answer = await proxy.get(`${base}page`, AUTH);
    assert.equal(answer.headers['x-frame-options'], 'SAMEORIGIN');
    assert.match(String(answer.headers['content-security-policy'] ?? ''), /frame-ancestors 'self'/);
    assert.equal(answer.headers['cross-origin-opener-policy'], 'noopener-allow-popups');
    assert.equal(answer.headers['referrer-policy'], 'same-origin');
  });

  it('streams a request body through to the app', async () => {
    const body = 'x'.repeat(200_000);
    const answer = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: proxy.spec.port,
          path: `${base}upload`,
          method: 'POST',
          headers: AUTH,
          agent: false,
        },
        (res) => {
          let text = '';
          res
            .setEncoding('utf8')
            .on('data', (c: string) => (text += c))
            .on('end', () => resolve({ status: res.statusCode!, text }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
    assert.equal(answer.status, 200);
    const echoed = JSON.parse(answer.text) as Echoed;
    assert.equal(echoed.method, 'POST');
    assert.equal(echoed.body.length, body.length);
  });

  it('moves a Location to the app root back under the prefix', async () => {
    const answer = await proxy.get(`${base}login-redirect`, AUTH);
    assert.equal(answer.status, 302);
    assert.equal(answer.headers.location, '/apps/alice/echo/login');
  });

  it('moves an absolute Location on the app host under the prefix', async () => {
    const answer = await proxy.get(`${base}abs-redirect`, AUTH);
    assert.equal(answer.headers.location, '/apps/alice/echo/abs?x=1');
  });

  it('moves Set-Cookie paths under the prefix', async () => {
    const answer = await proxy.get(`${base}login-redirect`, AUTH);
    assert.deepEqual(answer.headers['set-cookie'], [
      'app=1; Path=/apps/alice/echo/',
      'other=2; Path=/apps/alice/echo/sub; HttpOnly',
      'plain=3',
    ]);
  });

  it('moves the path of a single Set-Cookie under the prefix too', async () => {
    const answer = await proxy.get(`${base}one-cookie`, AUTH);
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.headers['set-cookie'], ['only=1; Path=/apps/alice/echo/']);
  });

  it("refuses paths with '..' segments, also percent-encoded, with 400", async () => {
    for (const path of [
      `${base}../bob/x`,
      `${base}a/%2e%2e/b`,
      `${base}a/%2E%2E`,
      `${base}..%2fetc`,
    ]) {
      const answer = await proxy.get(path, AUTH);
      assert.equal(answer.status, 400, path);
    }
    assert.equal(
      (await proxy.get(`${base}a..b/c`, AUTH)).status,
      200,
      "'..' inside a name is fine",
    );
  });

  it('answers paths outside the prefix with 404 and redirects the bare prefix to it', async () => {
    assert.equal((await proxy.get('/apps/alice/other/', AUTH)).status, 404);
    assert.equal((await proxy.get('/', AUTH)).status, 404);
    const bare = await proxy.get('/apps/alice/echo?x=1');
    assert.equal(bare.status, 302);
    assert.equal(bare.headers.location, '/apps/alice/echo/?x=1');
  });

  it('answers 502 with a page linking to the launcher when the app stops listening', async () => {
    await proxy.get(`${base}stop-listening`, AUTH);
    const answer = await proxy.get(`${base}after`, { ...AUTH, accept: 'text/html' });
    assert.equal(answer.status, 502);
    assert.match(answer.body, /href="https:\/\/hub\.example\.org\/services\/hubapps\/"/);
    assert.doesNotMatch(answer.body, /at .*\.js:\d+/, 'no stack trace');
  });
});

describe('hubapps-proxy forwarding with strip_prefix: false', () => {
  it('forwards the full path, leaves Location alone and confines cookie paths to the server', async () => {
    const catalog = await Catalog.create();
    const service = await startFakeService();
    echoApp(catalog, 'full', { stripPrefix: false });
    const proxy = await startProxy({ catalog, app: 'full', service });
    try {
      await proxy.ready();
      const page = JSON.parse((await proxy.get('/apps/alice/full/a/b?c=d', AUTH)).body) as Echoed;
      assert.equal(page.url, '/apps/alice/full/a/b?c=d');
      assert.equal(page.headers['x-forwarded-prefix'], undefined);
      const redirect = await proxy.get('/apps/alice/full/login-redirect', AUTH);
      assert.equal(redirect.headers.location, '/login');
      assert.equal(redirect.headers['set-cookie']![0], 'app=1; Path=/apps/alice/full/');
    } finally {
      await proxy.kill();
      await service.close();
      await catalog.remove();
    }
  });
});

describe('hubapps-proxy in front of python3 -m http.server', () => {
  it('serves the files of a stripped app under the prefix', async () => {
    const catalog = await Catalog.create();
    const service = await startFakeService();
    const site = join(catalog.dir, 'site');
    mkdirSync(join(site, 'docs'), { recursive: true });
    writeFileSync(join(site, 'docs', 'hello.txt'), 'hello from python\n');
    catalog.app(
      'files',
      `title: Files\ncommand: [python3, -m, http.server, "{port}", --bind, 127.0.0.1, --directory, ${JSON.stringify(site)}]\n`,
    );
    const proxy = await startProxy({ catalog, app: 'files', service });
    try {
      await proxy.ready();
      const file = await proxy.get('/apps/alice/files/docs/hello.txt', AUTH);
      assert.equal(file.status, 200);
      assert.equal(file.body, 'hello from python\n');
      const dir = await proxy.get('/apps/alice/files/docs', AUTH);
      assert.equal(dir.status, 301);
      assert.equal(dir.headers.location, '/apps/alice/files/docs/');
    } finally {
      await proxy.kill();
      await service.close();
      await catalog.remove();
    }
  });
});
