import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { portLabel } from '../../src/port-label.js';
import { freePort } from '../helpers/ports.js';
import { waitFor } from '../helpers/wait.js';
import { TEST_USERS } from '../system/harness.js';
import { loginToHubapps } from './hub-login.js';
import { rowInState, waitForLauncher, waitUntilReady } from './launcher-page.js';
import { APPS_DOMAIN, HubStack } from './stack.js';
import { useHubStack } from './hub-suite.js';

const { alice, bob } = TEST_USERS;
const SERVER = 'terminal';

/**
 * A user's own port, end to end, in both layouts: alice starts the built-in terminal from
 * the launcher, runs a web server in it, and finds its port under the terminal in "My
 * servers"; Open shows the program's page in a new tab, through CHP and her terminal's
 * proxy (with per-server origins, on the port's own host, which the service routes on its
 * first visit; there alice also shares the server with bob, who gets the port only once she
 * ticks its "Share with visitors"); when the program ends the port shows as closed, and
 * Forget removes it.
 */
for (const hostLayout of [false, true])
  describe(`e2e: a program in alice's terminal listens on a port, and the launcher lists and opens it (${hostLayout ? 'per-server origins' : 'path layout'}; real sudo, CHP, JupyterHub, Chromium)`, function () {
    this.timeout(90_000);
    const stack = new HubStack({
      hostLayout,
      apps: { terminal: { title: 'Terminal', description: 'A shell', builtin: 'terminal' } },
      config: { user_ports: { enabled: true } },
    });
    let browser: Browser;
    let context: BrowserContext;
    let launcher: Page;
    let terminal: Page;
    let port = 0;

    const screen = async () => (await terminal.textContent('.xterm-rows')) ?? '';
    const onScreen = (text: string) =>
      waitFor(async () => (await screen()).includes(text), {
        timeout: 15_000,
        what: `'${text}' in alice's terminal`,
      });
    const type = async (line: string) => {
      await terminal.keyboard.type(line);
      await terminal.keyboard.press('Enter');
    };
    const portsRow = () => launcher.locator(`#mine tr[data-ports="${alice}/${SERVER}"]`);
    const portItem = (): Locator => portsRow().locator(`li[data-port="${port}"]`);

    useHubStack(stack, {
      setUpMs: 180_000,
      ready: async (b: Browser) => {
        browser = b;
        port = await freePort();
        ({ context, page: launcher } = await loginToHubapps(
          browser,
          stack.publicUrl,
          stack.password,
          alice,
          hostLayout ? { appsDomain: APPS_DOMAIN } : {},
        ));
      },
    });

    it('starts the terminal from its card, and shows under it that no program listens yet', async () => {
      await waitForLauncher(launcher, alice);
      await launcher.getByRole('button', { name: 'Start Terminal', exact: true }).click();
      await waitUntilReady(launcher);
      const href = (await launcher.locator('#progress-open').getAttribute('href'))!;
      await launcher.locator('#progress-close').click();
      await rowInState(launcher, '#mine', alice, SERVER, 'Running');
      await portsRow()
        .getByText('Programs you start in this server that listen on a port show up here')
        .waitFor({ timeout: 15_000 });

      terminal = await context.newPage();
      await terminal.goto(new URL(href, launcher.url()).toString());
      await terminal.waitForSelector('.xterm-rows');
      await onScreen('$');
      await terminal.click('#terminal');
    });

    it('lists the port of a web server started in the terminal, with its command, and Open shows its page in a new tab', async () => {
      await type(
        `mkdir -p site && echo "<h1 id=mark>port page of $(id -un)</h1>" > site/index.html && echo "serving-$((6*7))" && python3 -m http.server ${port} --bind 127.0.0.1 --directory site`,
      );
      // The echoed command line cannot match: it holds $((6*7)), not 42.
      await onScreen('serving-42');
      const item = portItem();
      await item.waitFor({ timeout: 20_000 });
      await item.getByText('python3').waitFor();
      assert.equal(await item.getAttribute('class'), 'port', 'the port is not shown as listening');

      const [tab] = await Promise.all([
        context.waitForEvent('page'),
        item.getByRole('link', { name: `Open port ${port} of ${SERVER}` }).click(),
      ]);
      await tab.locator('#mark').waitFor({ timeout: 20_000 });
      assert.equal(await tab.locator('#mark').textContent(), `port page of ${alice}`);
      const opened = new URL(tab.url());
      if (hostLayout) {
        assert.equal(
          opened.origin,
          `http://${portLabel(alice, SERVER, port, 'server')}.${APPS_DOMAIN}:${stack.appsChp!.port}`,
        );
        assert.equal(opened.pathname, '/');
      } else {
        assert.equal(opened.origin, new URL(stack.publicUrl).origin);
        assert.equal(opened.pathname, `/apps/${alice}/${SERVER}/ports/${port}/`);
      }
      await tab.close();
    });

    // Shares need per-server origins.
    if (hostLayout)
      it("lets bob, a visitor of the shared terminal, open the port only once alice ticks 'Share with visitors'", async () => {
        await launcher.getByRole('button', { name: `Sharing of ${SERVER}` }).click();
        await launcher.locator('#share-name').fill(bob);
        await launcher.locator('#share-form').getByRole('button', { name: 'Share' }).click();
        await launcher.locator('#share-list', { hasText: `user ${bob}` }).waitFor();
        await launcher.locator('#share-close').click();
        const toggle = portItem().getByRole('checkbox', {
          name: `Share port ${port} of ${SERVER} with visitors`,
        });
        await toggle.waitFor({ timeout: 15_000 });
        assert.equal(await toggle.isChecked(), false);
        const url = (await portItem()
          .getByRole('link', { name: `Open port ${port} of ${SERVER}` })
          .getAttribute('href'))!;

        const visitor = await loginToHubapps(browser, stack.publicUrl, stack.password, bob, {
          appsDomain: APPS_DOMAIN,
        });
        try {
          const page = await visitor.context.newPage();
          await page.goto(url);
          await page.getByText(`but not port ${port}`).waitFor({ timeout: 15_000 });
          assert.equal(await page.locator('#mark').count(), 0);

          await toggle.check();
          await portItem()
            .getByRole('checkbox', { name: `Share port ${port} of ${SERVER} with visitors` })
            .and(launcher.locator(':checked:enabled'))
            .waitFor({ timeout: 15_000 });
          await page.goto(url);
          await page.locator('#mark').waitFor({ timeout: 15_000 });
          assert.equal(await page.locator('#mark').textContent(), `port page of ${alice}`);
        } finally {
          await visitor.context.close();
        }
      });

    it('shows the port as closed, not listening, once the program ends; Forget removes it', async () => {
      await terminal.click('#terminal');
      await terminal.keyboard.press('Control+C');
      const closed = portsRow().locator(`li.closed[data-port="${port}"]`);
      await closed.waitFor({ timeout: 20_000 });
      await closed.getByText('not listening').waitFor();
      assert.equal(
        await closed.getByRole('link', { name: /^Open/ }).count(),
        0,
        'a closed port still offers Open',
      );
      await closed.getByRole('button', { name: `Forget port ${port} of ${SERVER}` }).click();
      await portItem().waitFor({ state: 'detached', timeout: 15_000 });
      await portsRow()
        .getByText('Programs you start in this server that listen on a port show up here')
        .waitFor({ timeout: 15_000 });
    });
  });
