import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { openDb } from '../../../src/store/db.js';
import { AuthStore } from '../../../src/store/auth.js';
import { rawRequest, startLocalStack, type LocalStack } from '../../helpers/stack.js';
import { waitFor } from '../../helpers/wait.js';

const WS_MODULE = createRequire(import.meta.url).resolve('ws');
const ALIAS = 'https://jupyter.example.org';
/** Origins that only look like the alias: another host ending in its name, another scheme, another port. */
const LOOK_ALIKES = [
  'https://jupyter.example.org.evil.example',
  'https://evil-jupyter.example.org',
  'http://jupyter.example.org',
  'https://jupyter.example.org:8443',
];

/** Answers every request with its method and path; echoes WebSocket messages. */
const APP = `
import http from 'node:http';
import { createRequire } from 'node:module';
const { WebSocketServer } = createRequire(import.meta.url)(${JSON.stringify(WS_MODULE)});
const server = http.createServer((req, res) => res.end('app saw ' + req.method + ' ' + req.url));
new WebSocketServer({ server }).on('connection', (ws) => ws.on('message', (m) => ws.send('echo:' + m)));
server.listen(Number(process.argv[2]), '127.0.0.1');
`;

/** The HTTP status a WebSocket handshake through CHP ends with: 101 when it opened. */
function handshake(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('open', () => {
      ws.close();
      resolve(101);
    });
    ws.once('error', () => resolve(-1));
  });
}

describe('extra_origins: a second public origin of the same hubapps (real CHP, service and proxy)', function () {
  this.timeout(60000);
  let stack: LocalStack;
  let scripts: string;
  let cookie: string;
  before(async () => {
    scripts = fs.mkdtempSync(path.join(os.tmpdir(), 'hubapps-apps-'));
    fs.writeFileSync(path.join(scripts, 'app.mjs'), APP);
    stack = await startLocalStack({
      apps: {
        echo: {
          title: 'Echo',
          command: [process.execPath, path.join(scripts, 'app.mjs'), '{port}'],
        },
      },
      config: { extra_origins: [ALIAS.toUpperCase()] },
    });
    await stack.api('POST', '/users/alice/servers/echo', { app: 'echo' });
    await waitFor(
      async () => (await stack.api('GET', '/users/alice/servers/echo')).body.state === 'running',
      { timeout: 15000, what: 'the app to run' },
    );
    // A launcher login of alice, written where the service keeps sessions (the OAuth round trip is login.test.ts's).
    const db = openDb(path.join(stack.dir, 'data', 'hubapps.sqlite'));
    try {
      cookie = `hubapps-session=${new AuthStore(db).createSession('alice', false, 3600).cookie}`;
    } finally {
      db.close();
    }
  });
  after(async () => {
    await stack?.stop();
    fs.rmSync(scripts, { recursive: true, force: true });
  });

  const auth = () => ({ authorization: `token ${stack.token}` });
  const wsUrl = () => `${stack.chp.proxyUrl.replace('http', 'ws')}/apps/alice/echo/`;
  const chp = (urlPath: string, method: string, headers: Record<string, string>) =>
    rawRequest(stack.chp.port, new URL(stack.chp.proxyUrl).host, urlPath, { method, headers });

  it("lets a WebSocket from the configured extra origin through to the server's app", async () => {
    assert.equal(await handshake(wsUrl(), { ...auth(), origin: ALIAS }), 101);
  });

  it('refuses WebSockets from origins that only look like it, with 403 before the upgrade', async () => {
    for (const origin of LOOK_ALIKES)
      assert.equal(await handshake(wsUrl(), { ...auth(), origin }), 403, origin);
  });

  it("takes a form post from a page of the server on the extra origin, and refuses the look-alikes' pages", async () => {
    const post = (origin: string) =>
      chp('/apps/alice/echo/submit', 'POST', {
        ...auth(),
        origin,
        referer: `${origin}/apps/alice/echo/form`,
        'content-type': 'application/x-www-form-urlencoded',
      });
    const ok = await post(ALIAS);
    assert.equal(ok.status, 200, ok.body);
    assert.equal(ok.body, 'app saw POST /submit');
    for (const origin of LOOK_ALIKES) {
      const refused = await post(origin);
      assert.equal(refused.status, 403, `${origin}: ${refused.body}`);
      assert.doesNotMatch(refused.body, /app saw/);
    }
  });

  it("accepts the launcher's state changes from a launcher page on the extra origin, and refuses a look-alike's as cross-site", async () => {
    const stop = (origin: string) =>
      chp('/services/hubapps/api/users/alice/servers/nosuch', 'DELETE', {
        cookie,
        origin,
        referer: `${origin}/services/hubapps/`,
      });
    const ok = await stop(ALIAS);
    // Past the origin checks: the answer is about the server, which does not exist.
    assert.equal(ok.status, 404, ok.body);
    for (const origin of LOOK_ALIKES) {
      const refused = await stop(origin);
      assert.equal(refused.status, 403, `${origin}: ${refused.body}`);
      assert.match(JSON.parse(refused.body).code, /^(csrf|foreign_page)$/);
    }
  });
});
