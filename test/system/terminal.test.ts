import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { requirePrerequisite, requireRootOrSkip } from '../helpers/index.js';
import { waitFor } from '../helpers/wait.js';
import { TermClient } from '../helpers/terminal-client.js';
import type { Browser, Page } from 'playwright-core';
import { chromiumInstalled, launchChromium, newContext } from '../e2e/browser.js';
import { TEST_USERS, installCatalog, repoRoot } from './harness.js';
import { isAlive, uidOfUser, uidsOf } from './proc-scan.js';
import { APPS, routeTargetOf, SystemStack } from './system-stack.js';

const { alice } = TEST_USERS;
const SCREENSHOT = join(repoRoot(), 'docs', 'img', 'terminal.png');
/** The protection bound for the proxy's memory while output floods a tab that does not read. */
const RSS_LIMIT_MB = 150;

/** The tail of the per-server log files whose name mentions `server` (for failure messages). */
function serverLogOf(stateDir: string, server: string): string {
  const dir = join(stateDir, 'logs');
  return readdirSync(dir)
    .filter((f) => f.includes(server))
    .map((f) => readFileSync(join(dir, f), 'utf8').split('\n').slice(-15).join('\n'))
    .join('\n');
}

const rssMb = (pid: number) =>
  Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

describe('system: the built-in terminal, as hubapps-t-alice via sudo, through CHP', function () {
  this.timeout(120_000);
  const stack = new SystemStack();
  const clients: TermClient[] = [];
  let publicOrigin = '';

  const socketUrl = (server: string, query = 'cols=100&rows=30') =>
    `${stack.chp!.proxyUrl.replace(/^http/, 'ws')}/apps/${alice}/${server}/socket?${query}`;
  const admin = () => ({ authorization: `token ${stack.adminToken}`, origin: publicOrigin });
  const open = async (server = 'term', opts: { query?: string; ack?: boolean } = {}) => {
    const client = await TermClient.open(socketUrl(server, opts.query), {
      headers: admin(),
      ack: opts.ack,
    });
    clients.push(client);
    return client;
  };
  const serverLog = (server: string) => serverLogOf(stack.stateDir, server);
  const shellPid = async (client: TermClient) =>
    Number((await client.run('echo pid-$$-end', /pid-(\d+)-end/))[1]);

  before(async function () {
    requireRootOrSkip(this);
    await stack.setUp();
    publicOrigin = new URL(stack.chp!.proxyUrl).origin;
    await installCatalog(stack.installed!.catalogDir, {
      ...APPS,
      terminal: { title: 'Terminal', description: 'A shell in the browser', builtin: 'terminal' },
    });
    // The service notices the new app file within a second; until then the app is unknown (404).
    await waitFor(
      async () =>
        (await stack.api('POST', `/users/${alice}/servers/term`, { app: 'terminal' })).status ===
        202,
      {
        timeout: 10_000,
        what: 'the start of the terminal to be accepted',
      },
    );
    await stack.waitState(alice, 'term', ['running']);
  });
  afterEach(async function () {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    if (this.currentTest?.state === 'failed' && stack.stateDir) {
      process.stderr.write(
        `  server term: ${JSON.stringify(stack.row(alice, 'term'))}\n${serverLog('term')}\n`,
      );
    }
  });
  after(async () => stack.tearDown());

  it("runs alice's login shell as alice in her home, with TERM and a UTF-8 locale", async () => {
    const client = await open();
    // The echoed command line cannot match: '$' is not in the groups.
    const m = await client.run(
      'echo "[$(id -un)|$(pwd)|$TERM|$LANG|$SHELL]"',
      /\[([\w-]+)\|([\w/-]+)\|([\w-]+)\|([\w.-]+)\|([\w/]+)\]/,
    );
    assert.deepEqual(m.slice(1), [
      alice,
      `/home/${alice}`,
      'xterm-256color',
      'C.UTF-8',
      '/bin/bash',
    ]);
    const pid = await shellPid(client);
    const uid = await uidOfUser(alice);
    assert.deepEqual(uidsOf(pid), [uid, uid, uid, uid]);
    assert.deepEqual(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean), [
      '/bin/bash',
      '-l',
    ]);
  });

  it('passes a resize of the browser to the pty (stty size)', async () => {
    const client = await open('term', { query: 'cols=91&rows=27' });
    await client.run('stty size', /\r27 91\r\n/);
    client.resize(140, 50);
    await client.run('stty size', /\r50 140\r\n/);
  });

  it('gives a tab that reconnects within the grace period the same shell, with the earlier output', async () => {
    const first = await open();
    const pid = await shellPid(first);
    await first.run('echo kept-$((20+22))', /kept-42/);
    await first.close();
    await sleep(500);
    const again = await open();
    await again.expect(/kept-42/);
    assert.equal(await shellPid(again), pid);
  });

  it('shows two tabs attached at once the same output', async () => {
    const a = await open();
    const b = await open();
    await a.run('echo both-$((7*6))', /both-42/);
    await b.expect(/both-42/);
  });

  it('refuses a WebSocket without a credential and one from a foreign Origin', async () => {
    await assert.rejects(
      TermClient.open(socketUrl('term'), { headers: { origin: publicOrigin } }),
      { status: 401 },
    );
    await assert.rejects(
      TermClient.open(socketUrl('term'), {
        headers: { ...admin(), origin: 'https://evil.example.com' },
      }),
      { status: 403 },
    );
  });

  it('keeps the proxy memory bounded while `yes | head -c 50M` floods a tab that reads nothing', async () => {
    const proxyPid = stack.row(alice, 'term')!.proxy_pid!;
    const client = await open('term', { ack: false });
    await client.run('echo ready-$((1+1))', /ready-2/);
    const before = rssMb(proxyPid);
    client.ws.pause();
    client.type('yes | head -c 50M; echo flood-$((2*3))-done\r');
    let peak = before;
    for (const until = Date.now() + 8000; Date.now() < until; await sleep(100))
      peak = Math.max(peak, rssMb(proxyPid));
    assert.ok(
      peak < RSS_LIMIT_MB,
      `the proxy grew to ${peak.toFixed(1)} MB (from ${before.toFixed(1)} MB)`,
    );
    assert.ok(
      peak - before < 40,
      `the proxy grew by ${(peak - before).toFixed(1)} MB while the tab read nothing`,
    );
    // Ctrl-C still reaches the shell, and output flows again once the tab reads and acknowledges.
    client.type('\x03');
    client.autoAck = true;
    client.ws.resume();
    client.ack();
    await client.run('echo alive-$((5*5))', /alive-25/, 60_000);
  });

  describe('in headless Chromium', () => {
    let browser: Browser | undefined;
    let page: Page;
    const screen = async () => (await page.textContent('.xterm-rows')) ?? '';
    const onScreen = (text: string | RegExp) =>
      waitFor(
        async () =>
          typeof text === 'string' ? (await screen()).includes(text) : text.test(await screen()),
        { timeout: 15_000, what: `${text} on the page` },
      );
    const command = async (text: string, expected: string | RegExp) => {
      await page.keyboard.type(text);
      await page.keyboard.press('Enter');
      await onScreen(expected);
    };

    before(async function () {
      requirePrerequisite(
        this,
        chromiumInstalled(),
        'needs /usr/bin/chromium (Debian package chromium)',
      );
      await stack.startServer(alice, 'shot', 'terminal');
      browser = await launchChromium();
      const context = await newContext(browser);
      await context.grantPermissions(['clipboard-read', 'clipboard-write'], {
        origin: publicOrigin,
      });
      page = await context.newPage();
      await page.setViewportSize({ width: 880, height: 360 });
      // Scripted access: the admin token in the Authorization header (a token in the URL is not a credential).
      await context.setExtraHTTPHeaders({ authorization: `token ${stack.adminToken}` });
      await page.goto(`${stack.chp!.proxyUrl}/apps/${alice}/shot/`);
      await page.waitForSelector('.xterm-rows');
      await onScreen('$');
      await page.click('#terminal');
    });
    after(async () => browser?.close());

    it('runs what is typed into the page and shows its output on the screen', async () => {
      await command('echo hubapps-$((6*7))', 'hubapps-42');
    });

    it('copies the selection with Ctrl+Shift+C and pastes with Ctrl+Shift+V', async () => {
      // A double click selects the word.
      const line = (await page
        .locator('.xterm-rows > div', { hasText: /^hubapps-42/ })
        .first()
        .boundingBox())!;
      await page.mouse.dblclick(line.x + 20, line.y + line.height / 2);
      await page.keyboard.press('Control+Shift+C');
      assert.equal(await page.evaluate('navigator.clipboard.readText()'), 'hubapps-42');
      await page.evaluate(`navigator.clipboard.writeText('echo pasted-$((8*8))')`);
      await page.keyboard.press('Control+Shift+V');
      await page.keyboard.press('Enter');
      await onScreen('pasted-64');
    });

    it('reconnects by itself to the same shell when the connection drops (CHP restarts)', async () => {
      await command('echo pid-$$-end', /pid-\d+-end/);
      const pid = /pid-(\d+)-end/.exec(await screen())![1];
      await stack.restartChp();
      await waitFor(async () => page.isVisible('#status'), {
        timeout: 15_000,
        what: 'the page to say it is disconnected',
      });
      // The service puts the route back within a reconcile interval; the page retries until then.
      await waitFor(async () => !(await page.isVisible('#status')), {
        timeout: 30_000,
        what: 'the page to reconnect',
      });
      await page.click('#terminal');
      await command('clear; echo again-$$-end', /again-\d+-end/);
      assert.equal(/again-(\d+)-end/.exec(await screen())?.[1], pid);
    });

    it('looks like this (docs/img/terminal.png)', async () => {
      await page.keyboard.type('clear');
      await page.keyboard.press('Enter');
      await waitFor(async () => !(await screen()).includes('again-'), {
        timeout: 15_000,
        what: 'a cleared screen',
      });
      await command('echo hubapps-$((6*7))', 'hubapps-42');
      await command('id', 'uid=');
      await command('ls --color=auto -F /usr', 'share/');
      mkdirSync(join(repoRoot(), 'docs', 'img'), { recursive: true });
      await page.screenshot({ path: SCREENSHOT });
    });
  });

  it('ends the server when the shell exits: state stopped, route gone, proxy gone', async () => {
    const row = stack.row(alice, 'term')!;
    const client = await open();
    client.type('exit\r');
    assert.equal((await client.closed).code, 1000);
    await stack.waitState(alice, 'term', ['stopped']);
    // The row is marked first, the route goes right after.
    await waitFor(async () => (await stack.routes())[`/apps/${alice}/term`] === undefined, {
      timeout: 5000,
      what: 'the route to be removed',
    });
    await waitFor(() => !isAlive(row.proxy_pid) && !isAlive(row.launcher_pid), {
      timeout: 5000,
      what: 'the proxy and its sudo to exit',
    });
    const socket = decodeURIComponent(routeTargetOf(row).slice('http+unix://'.length));
    // The proxy kept its socket file (nobody else may bind the path while a route may point there); the clean-up after the route removes it.
    await waitFor(() => !existsSync(socket), {
      timeout: 10_000,
      what: "the proxy's socket file to be removed after its route",
    });
  });
});
