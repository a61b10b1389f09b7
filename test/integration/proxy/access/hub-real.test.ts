/**
 * The hub server's proxy against Debian's real JupyterHub 3.0 behind a real CHP, so the
 * fake hub's answers are checked against the real ones: the hub's authorize, token and user
 * endpoints, its scope filters, and its logout (which deletes the tokens of that login).
 * The OAuth client is a hub service with a path redirect_uri, the way the hub registers a
 * spawner's client (`jupyterhub-user-NAME-SERVER`, redirect JUPYTERHUB_OAUTH_CALLBACK_URL);
 * its access scope is then `access:services!service=probe`.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { startChp, type RunningChp } from '../../../../src/chp/chp-process.js';
import { freePort, requirePrerequisite, tmpDir, type TmpDir } from '../../../helpers/index.js';
import { jupyterhubInstalled, startHub, type RunningHub } from '../../../e2e/hub.js';
import {
  Catalog,
  startFakeService,
  type FakeService,
  type RunningProxy,
} from '../../../unit/proxy/harness.js';
import { echoApp } from '../apps.js';
import { HubBrowser, PREFIX, startHubProxy } from '../hub-bed.js';

const PASSWORD = randomBytes(12).toString('hex');
const PROBE_TOKEN = randomBytes(16).toString('hex');
const MINTER_TOKEN = randomBytes(16).toString('hex');
const ACCESS = 'access:services!service=probe';

describe("hubapps-proxy of a hub server against Debian's JupyterHub 3.0", function () {
  let dir: TmpDir;
  let chp: RunningChp;
  let hub: RunningHub;
  let catalog: Catalog;
  let service: FakeService;
  let proxy: RunningProxy;
  let origin: string;

  before(async function () {
    requirePrerequisite(
      this,
      jupyterhubInstalled(),
      "needs Debian's jupyterhub (/usr/bin/jupyterhub)",
    );
    dir = await tmpDir('hub-real');
    const chpToken = randomBytes(16).toString('hex');
    chp = await startChp({ authToken: chpToken });
    origin = new URL(chp.proxyUrl).origin;
    await writeFile(join(dir.path, 'chp-token'), chpToken, { mode: 0o600 });
    await writeFile(join(dir.path, 'hub-token'), randomBytes(16).toString('hex'), { mode: 0o600 });
    const hubBindUrl = `http://127.0.0.1:${await freePort()}`;
    hub = await startHub({
      dir: dir.path,
      password: PASSWORD,
      publicUrl: origin,
      serviceUrl: `http://127.0.0.1:${await freePort()}`,
      chpApiUrl: chp.apiUrl,
      chpTokenFile: join(dir.path, 'chp-token'),
      tokenFile: join(dir.path, 'hub-token'),
      group: 'hubapps-users',
      bindUrl: `${chp.proxyUrl.replace(/\/$/, '')}/`,
      hubBindUrl,
      users: ['alice', 'carol'],
      members: [],
      extraServices: [
        { name: 'minter', token: MINTER_TOKEN, scopes: ['tokens', ACCESS, 'read:users:name'] },
      ],
      extraConfig: `c.JupyterHub.services.append({"name": "probe", "api_token": ${JSON.stringify(PROBE_TOKEN)}, "oauth_redirect_uri": ${JSON.stringify(`${PREFIX}oauth_callback`)}, "oauth_no_confirm": True})
c.JupyterHub.load_roles.append({"name": "probe-users", "scopes": [${JSON.stringify(ACCESS)}], "users": ["alice"]})`,
    });
    catalog = await Catalog.create();
    echoApp(catalog, 'echo', { websocket: true });
    service = await startFakeService();
    proxy = await startHubProxy({
      catalog,
      service,
      publicOrigin: origin,
      revalidateMs: 1000,
      hub: {
        apiUrl: `${hub.apiUrl}/`,
        authorizePath: '/hub/api/oauth2/authorize',
        apiToken: PROBE_TOKEN,
        clientId: 'service-probe',
        callbackPath: `${PREFIX}oauth_callback`,
        accessScopes: [ACCESS],
        user: 'alice',
        server: 'echo',
      },
    });
    // The route the hub adds for a spawned server: /user/alice/echo -> the proxy.
    const added = await fetch(`${chp.apiUrl}/api/routes${PREFIX.slice(0, -1)}`, {
      method: 'POST',
      headers: { authorization: `token ${chpToken}` },
      body: JSON.stringify({ target: `http://127.0.0.1:${proxy.spec.port}` }),
    });
    assert.equal(added.status, 201);
  });

  after(async () => {
    await proxy?.kill();
    await hub?.stop();
    await chp?.stop();
    await service?.close().catch(() => undefined);
    await catalog?.remove();
    await dir?.remove();
  });

  async function loggedIn(user: string): Promise<HubBrowser> {
    const browser = new HubBrowser({ hub: chp.port, proxy: chp.port }, null);
    const login = await browser.request(
      '/hub/login',
      { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' },
      'POST',
      new URLSearchParams({ username: user, password: PASSWORD }).toString(),
    );
    assert.equal(login.status, 302, `hub login answered ${login.status}: ${login.body}`);
    return browser;
  }

  async function mint(scopes: string[]): Promise<string> {
    const res = await fetch(`${hub.apiUrl}/users/alice/tokens`, {
      method: 'POST',
      headers: { authorization: `token ${MINTER_TOKEN}` },
      body: JSON.stringify({ scopes, expires_in: 600, note: 'hub-real' }),
    });
    const body = (await res.json()) as { token?: string };
    assert.equal(res.status, 201, JSON.stringify(body));
    return body.token!;
  }

  it("signs alice in through the hub's real OAuth flow and serves her the page she wanted", async () => {
    const browser = await loggedIn('alice');
    const answer = await browser.go(`${PREFIX}page?x=1`);
    const trail = browser.hops
      .map((h) => `${h.answer.status} ${h.path.split('?')[0]}`)
      .join(' -> ');
    assert.equal(
      answer.status,
      200,
      `${trail}
${answer.body}
${proxy.output()}`,
    );
    const echoed = JSON.parse(answer.body) as { url: string; headers: Record<string, string> };
    assert.equal(echoed.url, '/page?x=1');
    assert.equal(echoed.headers['x-hubapps-user'], 'alice');
    assert.ok(!proxy.output().includes(PROBE_TOKEN), 'the api token is in the log');
  });

  it('leaves carol, who lacks the access scope, at the hub: it refuses her with 403 and the proxy sets no cookie', async () => {
    const browser = await loggedIn('carol');
    const answer = await browser.go(`${PREFIX}page`);
    assert.equal(answer.status, 403);
    assert.equal(browser.hops.at(-1)!.path.split('?')[0], '/hub/api/oauth2/authorize');
    assert.equal(browser.jar.has('hubapps-proxy-7'), false);
  });

  it("takes a hub token of alice's with the access scope and refuses one without it", async () => {
    const good = await mint([ACCESS]);
    const narrow = await mint(['read:users:name!user=alice']);
    assert.equal((await proxy.get(`${PREFIX}api`, { authorization: `token ${good}` })).status, 200);
    assert.equal(
      (await proxy.get(`${PREFIX}api`, { authorization: `token ${narrow}` })).status,
      403,
    );
  });

  it("ends alice's access and closes her WebSocket (through CHP) within the re-validation interval once she logs out at the hub", async () => {
    const browser = await loggedIn('alice');
    assert.equal((await browser.go(PREFIX)).status, 200);
    const ws = new WebSocket(`ws://127.0.0.1:${chp.port}${PREFIX}ws`, {
      headers: { cookie: browser.cookieFor(`${PREFIX}ws`), origin },
    });
    await new Promise((resolve, reject) => {
      ws.once('message', resolve);
      ws.once('error', reject);
    });
    const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    const logout = await browser.request('/hub/logout');
    assert.ok(logout.status < 400, `logout answered ${logout.status}`);
    await Promise.race([closed, sleep(4000).then(() => assert.fail('the websocket stayed open'))]);
    const after = await browser.request(`${PREFIX}page`, { accept: 'application/json' });
    assert.equal(after.status, 401);
  });
});
