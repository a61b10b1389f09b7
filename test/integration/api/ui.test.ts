import assert from 'node:assert/strict';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import Koa from 'koa';
import { pino } from 'pino';
import type { ApiDeps } from '../../../src/api/deps.js';
import { errorMiddleware } from '../../../src/api/errors.js';
import { launcherUi, UI_DIR } from '../../../src/api/ui.js';
import { Urls } from '../../../src/config/urls.js';
import { startLocalStack, type LocalStack } from '../../helpers/stack.js';
import { tmpDir, type TmpDir } from '../../helpers/tmp.js';

const PREFIX = '/services/hubapps/';

describe('api: the launcher page and its files', function () {
  let dir: TmpDir;
  let server: ReturnType<Koa['listen']>;
  let origin: string;
  const get = (p: string, headers: Record<string, string> = {}) =>
    fetch(`${origin}${p}`, { headers, redirect: 'manual' });

  before(async () => {
    dir = await tmpDir('ui');
    fs.writeFileSync(path.join(dir.path, 'index.html'), '<!doctype html><title>launcher</title>');
    fs.writeFileSync(path.join(dir.path, 'main.js'), 'export {};');
    fs.writeFileSync(path.join(dir.path, 'style.css'), 'body{}');
    fs.writeFileSync(path.join(dir.path, '.secret'), 'no');
    fs.writeFileSync(
      path.join(path.dirname(dir.path), `${path.basename(dir.path)}-outside.js`),
      'no',
    );
    const urls = new Urls(
      {
        base_url: '/',
        apps_prefix: '/apps/',
        service_prefix: PREFIX,
        public_url: 'http://127.0.0.1:8000',
      },
      'http://127.0.0.1:1',
    );
    const app = new Koa();
    app.use(errorMiddleware(pino({ level: 'silent' })));
    app.use(launcherUi({ urls } as ApiDeps, `${dir.path}/`));
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server?.close();
    fs.rmSync(path.join(path.dirname(dir.path), `${path.basename(dir.path)}-outside.js`), {
      force: true,
    });
    await dir?.remove();
  });

  it('answers the prefix with index.html that is never cached and may load only same-origin code', async () => {
    const res = await get(PREFIX);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    assert.match(await res.text(), /<title>launcher<\/title>/);
  });

  it('redirects the prefix without its slash, keeping the query', async () => {
    const res = await get(`${PREFIX.slice(0, -1)}?start=x`);
    assert.equal(res.status, 302);
    assert.equal(res.headers.get('location'), `${PREFIX}?start=x`);
  });

  it('serves scripts and styles under static/ with their type, revalidated by the browser', async () => {
    const js = await get(`${PREFIX}static/main.js`);
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type') ?? '', /javascript/);
    assert.equal(js.headers.get('cache-control'), 'no-cache');
    assert.equal(js.headers.get('x-content-type-options'), 'nosniff');
    // As a browser revalidates (fetch would add "Cache-Control: no-cache" on its own).
    const again = await get(`${PREFIX}static/main.js`, {
      'if-modified-since': js.headers.get('last-modified')!,
      'cache-control': 'max-age=0',
    });
    assert.equal(again.status, 304);
    assert.match(
      (await get(`${PREFIX}static/style.css`)).headers.get('content-type') ?? '',
      /text\/css/,
    );
  });

  for (const [what, p] of [
    ['a missing file', 'static/nope.js'],
    ['a hidden file', 'static/.secret'],
    ['a path outside the directory', `static/..%2F${'x'}-outside.js`],
    ['a nested path', 'static/a/main.js'],
    ['a file type the page does not use', 'static/index.html'],
  ]) {
    it(`answers 404 as JSON for ${what}`, async () => {
      const res = await get(`${PREFIX}${p}`);
      assert.equal(res.status, 404);
      assert.equal(((await res.json()) as { status: number }).status, 404);
    });
  }

  it('says the page is not built when index.html is missing', async () => {
    fs.renameSync(path.join(dir.path, 'index.html'), path.join(dir.path, 'index.off'));
    try {
      const res = await get(PREFIX);
      assert.equal(res.status, 503);
      assert.match(((await res.json()) as { message: string }).message, /npm run build/);
    } finally {
      fs.renameSync(path.join(dir.path, 'index.off'), path.join(dir.path, 'index.html'));
    }
  });

  it('finds the built page where npm run build puts it', () => {
    assert.ok(
      fs.existsSync(path.join(UI_DIR, 'index.html')),
      `${UI_DIR}index.html is missing: run npm run build`,
    );
    assert.ok(fs.existsSync(path.join(UI_DIR, 'main.js')), `${UI_DIR}main.js is missing`);
  });
});

describe('api: start-on-visit for servers that are not running', function () {
  this.timeout(30000);
  let stack: LocalStack;
  const html = { accept: 'text/html,application/xhtml+xml', 'sec-fetch-mode': 'navigate' };
  before(async () => {
    stack = await startLocalStack({
      apps: {
        hello: {
          title: 'Hello',
          command: [process.execPath, '-e', 'setInterval(Object, 1000)', '{port}'],
        },
      },
    });
  });
  after(async () => stack?.stop());

  it('sends a browser to the launcher with the server, its owner and the page asked for', async () => {
    const res = await stack.viaChp('/apps/alice/hello/some/page?x=1', html);
    assert.equal(res.status, 302);
    const to = new URL(res.headers.get('location')!, stack.chp.proxyUrl);
    assert.equal(to.pathname, PREFIX);
    assert.deepEqual(Object.fromEntries(to.searchParams), {
      start: 'hello',
      user: 'alice',
      next: '/apps/alice/hello/some/page?x=1',
    });
  });

  it('tells a stranger nothing about which servers exist: a stopped server and none at all get the same answers', async () => {
    assert.equal(
      (await stack.api('POST', '/users/alice/servers/mine', { app: 'hello' })).status,
      202,
    );
    await stack.api('DELETE', '/users/alice/servers/mine');
    const answers = async (name: string) => {
      const page = await stack.viaChp(`/apps/alice/${name}/`, html);
      const script = await stack.viaChp(`/apps/alice/${name}/`, { accept: '*/*' });
      const to = new URL(page.headers.get('location') ?? '/', stack.chp.proxyUrl);
      return {
        page: page.status,
        params: [...to.searchParams.keys()],
        script: script.status,
        text: await script.text(),
      };
    };
    const stopped = await answers('mine');
    assert.equal(stopped.page, 302);
    assert.deepEqual(await answers('never-was'), stopped);
  });

  it('keeps the plain 503 page for scripts, which did not navigate', async () => {
    const res = await stack.viaChp('/apps/alice/hello/', { accept: '*/*' });
    assert.equal(res.status, 503);
  });

  it('keeps the plain 503 page for names the API would refuse', async () => {
    for (const p of ['/apps/alice/Hello/', '/apps/-alice/hello/', '/apps/alice/']) {
      assert.equal((await stack.viaChp(p, html)).status, 503, p);
    }
  });
});
