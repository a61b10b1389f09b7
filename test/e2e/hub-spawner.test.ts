/**
 * hubapps as JupyterHub's spawner (HubappsSpawner), end to end: Debian's JupyterHub 3.0 with
 * named servers, the CHP it shares with hubapps, hubapps with the sudo launcher, real test
 * accounts and headless Chromium. Users keep the hub's own pages and API; hubapps starts the
 * processes as the user and its proxy lets in only hub credentials carrying the server's
 * access scope.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { requirePrerequisite } from '../helpers/index.js';
import { waitFor } from '../helpers/wait.js';
import { TEST_USERS, repoRoot, runOk } from '../system/harness.js';
import { connectAs } from '../system/harness-guard.js';
import { processesOfUid, uidOfUser, uidsOf } from '../system/proc-scan.js';
import { apiFromPage, webSocketFromPage } from './browser.js';
import { loginToHubapps } from './hub-login.js';
import { useHubStack } from './hub-suite.js';
import {
  confirmAuthorizeIfAsked,
  hubTokenFromPage,
  loginToHub,
  spawnFromHome,
  stopFromAdminPanel,
} from './hub-spawner-steps.js';
import {
  ALICE_SERVER,
  BOB_SERVER,
  HUB_ADMIN,
  SPAWNER_MODULE,
  SpawnerStack,
} from './spawner-stack.js';
import { SPAWNER_DOC_VALUES, spawnerSnippet } from './spawner-config.js';
import { bobsAttackPage, type AttackName } from './hub-spawner-attack.js';

const { alice, bob } = TEST_USERS;
const ALICE_PATH = `/user/${alice}/${ALICE_SERVER}/`;
const BOB_PATH = `/user/${bob}/${BOB_SERVER}/`;
const ALICE_SECRET = `echo app of ${alice}`;

describe('e2e: HubappsSpawner behind a real JupyterHub 3.0 (named servers, admin panel, REST API, sudo, CHP, Chromium)', function () {
  this.timeout(90_000);
  const s = new SpawnerStack();
  const stack = s.hub;
  let browser: Browser;
  let aliceCtx: BrowserContext;
  let alicePage: Page;
  /** alice's hub token (her own scopes), as a script of hers holds it. */
  let aliceToken = '';
  let bobCtx: BrowserContext;
  let bobToken = '';
  const url = (path: string) => s.url(path);
  const showsAlicesApp = async (page: Page) =>
    ((await page.textContent('#who').catch(() => null)) ?? '') === ALICE_SECRET;

  async function waitReady(user: string, server: string): Promise<void> {
    await waitFor(async () => (await s.hubServer(user, server))?.ready === true, {
      timeout: 60_000,
      interval: 250,
      what: `the hub to report ${user}/${server} ready`,
    });
  }

  useHubStack(stack, {
    setUpMs: 180_000,
    prerequisites: (ctx) =>
      requirePrerequisite(
        ctx,
        existsSync(SPAWNER_MODULE),
        `needs the spawner module (${SPAWNER_MODULE})`,
      ),
    beforeSetUp: () => s.installModule(),
    afterTearDown: () => s.removeModule(),
    ready: async (b) => {
      browser = b;
      ({ context: aliceCtx, page: alicePage } = await loginToHub(
        browser,
        stack.publicUrl,
        stack.password,
        alice,
      ));
      aliceToken = await hubTokenFromPage(alicePage, stack.publicUrl, alice);
      let bobPage: Page;
      ({ context: bobCtx, page: bobPage } = await loginToHub(
        browser,
        stack.publicUrl,
        stack.password,
        bob,
      ));
      bobToken = await hubTokenFromPage(bobPage, stack.publicUrl, bob);
    },
  });

  it("starts alice's named server from /hub/home (options form, spawn-pending page with hubapps' progress messages) and lands her in the app", async () => {
    const seen = await spawnFromHome(
      alicePage,
      stack.publicUrl,
      alice,
      ALICE_SERVER,
      'echo',
      showsAlicesApp,
    );
    assert.ok(
      seen.visited.includes(`/hub/spawn-pending/${alice}/${ALICE_SERVER}`),
      `went through ${seen.visited.join(' ')}`,
    );
    const recorded = s.progressMessages(s.row(alice, ALICE_SERVER).id);
    assert.ok(recorded.length > 0, 'hubapps recorded progress for the start');
    assert.ok(
      seen.log.some((m) => recorded.some((r) => m.includes(r))),
      `the hub's progress log (${JSON.stringify(seen.log)}) shows none of hubapps' messages (${JSON.stringify(recorded)})`,
    );
    assert.ok(seen.bar.length > 0 && Math.max(...seen.bar) <= 100, `bar: ${seen.bar.join(',')}`);
    assert.equal(alicePage.url(), url(ALICE_PATH));
    await waitReady(alice, ALICE_SERVER);
  });

  it('runs the app as alice and answers her over HTTP and over a WebSocket', async () => {
    await alicePage.goto(url(`${ALICE_PATH}hello?x=1`));
    assert.equal(await alicePage.textContent('#who'), ALICE_SECRET);
    assert.equal(await alicePage.textContent('#url'), '/hello?x=1');
    assert.equal(await webSocketFromPage(alicePage, `${ALICE_PATH}ws`, 'ping'), 'echo:ping');
    const row = s.row(alice, ALICE_SERVER);
    assert.equal(row.state, 'running');
    const [pid] = await s.proxyPids(alice);
    assert.equal(pid, row.proxy_pid, "the one proxy running as alice is the server's");
    assert.equal(uidsOf(pid!)?.[1], await uidOfUser(alice));
  });

  it("moves the server's last_activity at the hub when alice uses the app (the hub's culler sees it)", async () => {
    const before = (await s.hubServer(alice, ALICE_SERVER))?.last_activity as string;
    const usedAt = Date.now();
    assert.ok(
      Date.parse(before) < usedAt,
      `the hub's last_activity ${before} is older than the use`,
    );
    await alicePage.goto(url(`${ALICE_PATH}activity`));
    assert.equal(await alicePage.textContent('#who'), ALICE_SECRET);
    await waitFor(
      async () => {
        const at = (await s.hubServer(alice, ALICE_SERVER))?.last_activity as string | null;
        return at !== null && at !== undefined && Date.parse(at) >= usedAt;
      },
      {
        timeout: 20_000,
        interval: 500,
        what: "the hub's last_activity of the server to reach the use",
      },
    );
  });

  it('lets the hub admin stop it from the admin panel', async () => {
    const { context, page } = await loginToHub(browser, stack.publicUrl, stack.password, HUB_ADMIN);
    await stopFromAdminPanel(page, stack.publicUrl, alice, ALICE_SERVER);
    await waitFor(async () => !(await s.hubServer(alice, ALICE_SERVER)), {
      timeout: 30_000,
      interval: 250,
      what: 'the hub to show the server stopped',
    });
    await waitFor(async () => (await s.proxyPids(alice)).length === 0, {
      timeout: 15_000,
      what: "alice's proxy to end",
    });
    assert.equal(s.row(alice, ALICE_SERVER).state, 'stopped');
    await context.close();
  });

  it('starts it from a script with POST /hub/api/users/NAME/servers/SERVER and a hub token, and it becomes ready', async () => {
    const started = await s.hubApi(aliceToken, 'POST', `/users/${alice}/servers/${ALICE_SERVER}`, {
      app: 'echo',
    });
    assert.ok(
      [201, 202].includes(started.status),
      `${started.status} ${JSON.stringify(started.body)}`,
    );
    await waitReady(alice, ALICE_SERVER);
    assert.equal(s.row(alice, ALICE_SERVER).state, 'running');
    const res = await fetch(url(ALICE_PATH), { headers: { authorization: `token ${aliceToken}` } });
    assert.equal(res.status, 200);
    assert.match(await res.text(), new RegExp(ALICE_SECRET));
    // Her browser goes through the hub's OAuth again for the new proxy.
    await alicePage.goto(url(ALICE_PATH));
    await confirmAuthorizeIfAsked(alicePage);
    assert.equal(await alicePage.textContent('#who'), ALICE_SECRET);
  });

  it("fails a start of an app hubapps does not have, and the hub's progress stream says hubapps' reason", async () => {
    const started = await s.hubApi(aliceToken, 'POST', `/users/${alice}/servers/broken`, {
      app: 'no-such-app',
    });
    assert.ok([201, 202].includes(started.status), JSON.stringify(started.body));
    const res = await fetch(url(`/hub/api/users/${alice}/servers/broken/progress`), {
      headers: { authorization: `token ${aliceToken}` },
    });
    const events = (await res.text())
      .split('\n')
      .filter((l) => l.startsWith('data:'))
      .map((l) => JSON.parse(l.slice(5)) as { failed?: boolean; message?: string });
    const failed = events.find((e) => e.failed);
    assert.ok(failed, JSON.stringify(events));
    assert.match(failed.message ?? '', /no-such-app/);
    assert.equal(await s.hubServer(alice, 'broken'), undefined, 'the hub keeps no broken server');
    assert.equal((await s.proxyPids(alice)).length, 1, "only the running server's proxy");
  });

  describe("who may not open alice's server", () => {
    let narrowToken = '';
    let launcherToken = '';
    let direct = '';

    before(async () => {
      // Her own token that may start and stop her servers but not open them.
      narrowToken = await hubTokenFromPage(alicePage, stack.publicUrl, alice, [
        `servers!user=${alice}`,
      ]);
      const launcher = await loginToHubapps(browser, stack.publicUrl, stack.password, alice);
      const made = await apiFromPage(launcher.page, 'POST', `/users/${alice}/tokens`, {
        note: 'e2e',
      });
      assert.equal(made.status, 201, JSON.stringify(made.body));
      launcherToken = made.body.token as string;
      await launcher.context.close();
      direct = await s.hubTarget(alice, ALICE_SERVER);
    });

    it("refuses bob's browser at /user/alice/SERVER/ and shows him nothing of the app", async () => {
      const page = await bobCtx.newPage();
      const statuses: number[] = [];
      page.on('response', (r) => {
        if (r.request().isNavigationRequest() && r.request().frame() === page.mainFrame())
          statuses.push(r.status());
      });
      await page.goto(url(ALICE_PATH));
      await confirmAuthorizeIfAsked(page);
      assert.equal(statuses.at(-1), 403, `ended at ${page.url()} (${statuses.join(' ')})`);
      assert.ok(!(await page.content()).includes(ALICE_SECRET));
      await page.close();
    });

    for (const [who, token] of [
      ["bob's hub token", () => bobToken],
      ["alice's hub token without an access scope (servers!user only)", () => narrowToken],
      ["alice's hubapps API token", () => launcherToken],
    ] as const) {
      it(`refuses ${who}, through CHP and directly at the proxy's port`, async () => {
        for (const base of [stack.publicUrl, direct]) {
          const res = await fetch(`${base}${ALICE_PATH}`, {
            headers: { authorization: `token ${token()}` },
          });
          const text = await res.text();
          assert.ok([401, 403].includes(res.status), `${base}: ${res.status}`);
          assert.ok(!text.includes(ALICE_SECRET), base);
        }
      });
    }

    it("leaves bob's Unix account only her proxy's port: her app's own port refuses his connections (port guard)", async () => {
      const { port, app_port } = s.row(alice, ALICE_SERVER);
      assert.ok(port && app_port && port !== app_port, `ports ${port} ${app_port}`);
      assert.equal(await connectAs(bob, app_port), 'ECONNREFUSED');
      assert.equal(await connectAs(alice, app_port), 'connected', 'alice reaches her own app');
      // Open to local accounts by design (CHP and the hub's wait_up connect to it); the proxy asks for credentials.
      assert.equal(await connectAs(bob, port), 'connected');
    });

    it("lets alice's own hub token in at both places (the refusals above are about the credential)", async () => {
      for (const base of [stack.publicUrl, direct]) {
        const res = await fetch(`${base}${ALICE_PATH}`, {
          headers: { authorization: `token ${aliceToken}` },
        });
        assert.equal(res.status, 200, base);
        assert.match(await res.text(), new RegExp(ALICE_SECRET));
      }
    });
  });

  describe("a page of bob's app, which alice may open (a hub role), in her browser", () => {
    let attack: Page;
    const run = (name: AttackName) =>
      attack.evaluate((n) => (globalThis as any).attack[n]() as Promise<string>, name);

    before(async () => {
      const www = join('/home', bob, 'www');
      await mkdir(www, { recursive: true });
      await writeFile(join(www, 'attack.html'), bobsAttackPage(ALICE_PATH));
      await runOk('chown', ['-R', `${bob}:`, www]);
      const started = await s.hubApi(bobToken, 'POST', `/users/${bob}/servers/${BOB_SERVER}`, {
        app: 'www',
      });
      assert.ok([201, 202].includes(started.status), JSON.stringify(started.body));
      await waitReady(bob, BOB_SERVER);
      attack = await aliceCtx.newPage();
      await attack.goto(url(`${BOB_PATH}attack.html`));
      await confirmAuthorizeIfAsked(attack);
      assert.equal(await attack.textContent('#attack'), "bob's page");
      assert.ok(await showsAlicesApp(alicePage), "alice's own tab still shows her app");
    });

    it("does not let bob's own browser cookies (his hub login, his server's proxy cookie) open alice's server, through CHP or at her proxy's port", async () => {
      const page = await bobCtx.newPage();
      await page.goto(url(`${BOB_PATH}attack.html`));
      await confirmAuthorizeIfAsked(page);
      assert.equal(await page.textContent('#attack'), "bob's page", 'bob opened his own server');
      await page.close();
      // All of them, whatever their path: a script can send every cookie of bob's browser anywhere.
      const cookie = (await bobCtx.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
      assert.ok(cookie.includes('jupyterhub-hub-login='), cookie.replace(/=[^;]+/g, '=…'));
      for (const base of [stack.publicUrl, await s.hubTarget(alice, ALICE_SERVER)]) {
        const res = await fetch(`${base}${ALICE_PATH}`, {
          headers: { cookie },
          redirect: 'manual',
        });
        assert.ok(!(await res.text()).includes(ALICE_SECRET), base);
        assert.notEqual(res.status, 200, base);
      }
    });

    const REFUSED = /refused: this request comes from a page outside this server/;

    it('cannot fetch her app with her cookies (with a Referer, without one, a POST)', async () => {
      const seen = await run('fetchApp');
      assert.ok(!seen.includes(ALICE_SECRET), seen);
      assert.match(seen, /^403 .* \| 403 .* \| 403 /);
    });

    it('cannot read her app in an iframe', async () => {
      const seen = await run('frameApp');
      assert.ok(!seen.includes(ALICE_SECRET), seen);
      assert.match(seen, REFUSED);
    });

    it('cannot post a form to her app', async () => {
      const seen = await run('formPost');
      assert.ok(!seen.includes(ALICE_SECRET), seen);
      assert.match(seen, REFUSED);
    });

    it('cannot open a WebSocket to her app', async () => {
      assert.equal(await run('webSocket'), 'refused');
    });
  });

  describe('restarts', () => {
    let proxiesBefore: number[] = [];
    let alicesBefore: number[] = [];
    const alicesProcesses = async () =>
      processesOfUid(await uidOfUser(alice))
        .map((p) => p.pid)
        .sort((a, b) => a - b);

    before(async () => {
      proxiesBefore = await s.proxyPids(alice);
      assert.equal(proxiesBefore.length, 1, `alice's proxies: ${proxiesBefore.join(',')}`);
      alicesBefore = await alicesProcesses();
    });

    async function bothAgree(): Promise<void> {
      await waitReady(alice, ALICE_SERVER);
      const row = s.row(alice, ALICE_SERVER);
      assert.equal(row.state, 'running');
      assert.deepEqual(await s.proxyPids(alice), proxiesBefore, 'the same one proxy, no new one');
      assert.equal(row.proxy_pid, proxiesBefore[0]);
      assert.deepEqual(
        await alicesProcesses(),
        alicesBefore,
        "alice's processes, none more or less",
      );
      await alicePage.goto(url(ALICE_PATH));
      await confirmAuthorizeIfAsked(alicePage);
      assert.equal(await alicePage.textContent('#who'), ALICE_SECRET);
      assert.equal(await webSocketFromPage(alicePage, `${ALICE_PATH}ws`, 'again'), 'echo:again');
    }

    it('keeps the server running through kill -9 of the hub, and the restarted hub agrees', async () => {
      await stack.killAndRestartHub();
      await bothAgree();
    });

    it('keeps the server running through kill -9 of hubapps (the hub polling meanwhile), and hub and hubapps agree afterwards', async () => {
      await stack.killAndRestartService(async () => {
        // The hub polls every second (poll_interval): a poll that ended the server would show here.
        await new Promise((r) => setTimeout(r, 4000));
        assert.equal((await s.hubServer(alice, ALICE_SERVER))?.ready, true);
        assert.match(
          stack.hub!.output(),
          /is unreachable: .*; assuming it still runs/,
          'the hub polled the spawner while hubapps was down',
        );
      });
      // Past a reconcile round of the restarted service (reconcile_interval 1 s).
      await new Promise((r) => setTimeout(r, 3000));
      await bothAgree();
      const got = await s.spawnerApi('GET', `/users/${alice}/servers/${ALICE_SERVER}`);
      assert.equal(got.body.state, 'running');
    });
  });
});

describe('docs/jupyterhub.md, "Drop-in for sudospawner"', () => {
  it('shows the jupyterhub_config.py lines the spawner test runs, with example values', () => {
    const doc = readFileSync(join(repoRoot(), 'docs', 'jupyterhub.md'), 'utf8');
    const section = doc.slice(doc.indexOf('## Drop-in for sudospawner'));
    assert.ok(
      section.includes(`\`\`\`python\n${spawnerSnippet(SPAWNER_DOC_VALUES)}\`\`\``),
      'the section does not contain spawnerSnippet(SPAWNER_DOC_VALUES) as a python block',
    );
  });
});
