/**
 * hubapps as JupyterHub's spawner (HubappsSpawner), end to end: Debian's JupyterHub 3.0 with
 * named servers, the CHP it shares with hubapps, hubapps with the sudo launcher and the port
 * guard, real test accounts and headless Chromium. Users keep the hub's own pages and API
 * (/hub/home and its progress bar, the admin panel, the REST API); hubapps starts the
 * processes as the user, and servers outlive a crash of either side. Who may open a server:
 * hub-spawner-access.test.ts.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { waitFor } from '../helpers/wait.js';
import { TEST_USERS, repoRoot } from '../system/harness.js';
import { processesOfUid, uidOfUser, uidsOf } from '../system/proc-scan.js';
import { webSocketFromPage } from './browser.js';
import {
  confirmAuthorizeIfAsked,
  loginToHub,
  spawnFromHome,
  stopFromAdminPanel,
} from './hub-spawner-steps.js';
import { SPAWNER_DOC_VALUES, spawnerSnippet } from './spawner-config.js';
import {
  ALICE_PATH,
  ALICE_SECRET,
  ALICE_SERVER,
  HUB_ADMIN,
  SpawnerStack,
  showsAlicesApp,
} from './spawner-stack.js';
import { useSpawnerSuite, waitReady } from './spawner-suite.js';

const { alice } = TEST_USERS;

describe('e2e: HubappsSpawner behind a real JupyterHub 3.0: named servers from /hub/home, the admin panel, the REST API, restarts (sudo, CHP, Chromium)', function () {
  this.timeout(90_000);
  const s = new SpawnerStack();
  const stack = s.hub;
  const suite = useSpawnerSuite(s);
  let alicePage: Page;
  /** alice's hub token (her own scopes), as a script of hers holds it. */
  let aliceToken = '';
  const url = (path: string) => s.url(path);

  before(() => {
    ({ page: alicePage, token: aliceToken } = suite.alice);
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
    await waitReady(s, alice, ALICE_SERVER);
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
    const { context, page } = await loginToHub(
      suite.browser,
      stack.publicUrl,
      stack.password,
      HUB_ADMIN,
    );
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
    await waitReady(s, alice, ALICE_SERVER);
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

  it("runs the hub's default server as hubapps' server 'default' at /user/alice/, next to her named server in the same browser, and stops it without leaving a process", async () => {
    const started = await s.hubApi(aliceToken, 'POST', `/users/${alice}/server`, { app: 'echo' });
    assert.ok([201, 202].includes(started.status), JSON.stringify(started.body));
    await waitReady(s, alice, '');
    assert.equal(s.row(alice, 'default').state, 'running');
    assert.equal((await s.proxyPids(alice)).length, 2);
    await alicePage.goto(url(`/user/${alice}/there`));
    await confirmAuthorizeIfAsked(alicePage);
    assert.equal(await alicePage.textContent('#url'), '/there');
    assert.equal(await alicePage.textContent('#who'), ALICE_SECRET);
    // The default server's prefix holds the named one's: each still answers as itself.
    await alicePage.goto(url(`${ALICE_PATH}here`));
    assert.equal(await alicePage.textContent('#url'), '/here');
    const stopped = await s.hubApi(aliceToken, 'DELETE', `/users/${alice}/server`);
    assert.ok([202, 204].includes(stopped.status), String(stopped.status));
    await waitFor(async () => !(await s.hubServer(alice, '')), {
      timeout: 30_000,
      interval: 250,
      what: 'the hub to show the default server stopped',
    });
    await waitFor(async () => (await s.proxyPids(alice)).length === 1, {
      timeout: 15_000,
      what: "the default server's proxy to end",
    });
    assert.equal(s.row(alice, 'default').state, 'stopped');
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
      await waitReady(s, alice, ALICE_SERVER);
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

    it('keeps the server running through a clean stop and start of the hub (cleanup_servers = False)', async () => {
      await stack.restartHub();
      await bothAgree();
    });

    it('keeps the server running through kill -9 of both, the hub coming back first while hubapps is still down', async () => {
      await stack.killAndRestartService(async () => {
        await stack.killAndRestartHub();
        assert.equal((await s.hubServer(alice, ALICE_SERVER))?.ready, true);
      });
      await new Promise((r) => setTimeout(r, 3000));
      await bothAgree();
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
