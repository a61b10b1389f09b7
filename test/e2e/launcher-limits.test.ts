import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { requirePrerequisite, requireRootOrSkip } from '../helpers/prereq.js';
import { waitFor } from '../helpers/wait.js';
import { chromiumInstalled, launchChromium } from './browser.js';
import {
  closeDialog,
  loginAs,
  row,
  screenshot,
  waitForLauncher,
  waitUntilReady,
} from './launcher-page.js';
import { APPS, startLauncherStack, type LauncherStack } from './launcher-stack.js';

const NAME = `hubapps-t-${process.env.HUBAPPS_TEST_TAG ?? ''}e2e-cg`;
const CONTROLLERS = ['memory', 'cpu', 'pids'];
const root = (c: string) => `/sys/fs/cgroup/${c}/${NAME}`;

function removed(dir: string): boolean {
  try {
    rmdirSync(dir);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EBUSY') return false;
    throw err;
  }
}

const LIMITED = {
  ...APPS.hello,
  title: 'Lab',
  description: 'The small web app, with a memory choice.',
  limits: { mem_mb: 128, choices: { mem_mb: { max: 512 } } },
};
const GREEDY = {
  title: 'Greedy',
  command: ['/usr/bin/python3', '-c', "held = ' ' * (300 << 20)", '{port}'],
  ready: { timeout: 20 },
  limits: { mem_mb: 64 },
};

describe('launcher page: memory limits of servers on this host (Chromium, CHP, real cgroups)', function () {
  this.timeout(120_000);
  let browser: Browser;
  let stack: LauncherStack;

  before(async function () {
    requirePrerequisite(
      this,
      chromiumInstalled(),
      'needs /usr/bin/chromium (Debian package chromium)',
    );
    // The local launcher runs the service's own user's servers: root here, which may write the v1 cgroups directly.
    requireRootOrSkip(
      this,
      'needs root (it creates the cgroup root that hubapps cgroup-setup would)',
    );
    requirePrerequisite(
      this,
      CONTROLLERS.every((c) => existsSync(`/sys/fs/cgroup/${c}/cgroup.procs`)),
      'needs the cgroup v1 controllers memory, cpu and pids',
    );
    for (const c of CONTROLLERS) mkdirSync(root(c), { recursive: true });
    browser = await launchChromium();
    stack = await startLauncherStack(
      { server_limits: { cgroups: 'required', cgroup_name: NAME } },
      { lab: LIMITED, greedy: GREEDY },
    );
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
    for (const c of CONTROLLERS) {
      if (!existsSync(root(c))) continue;
      // A failed server's proxy lingers a moment after its app ended; its cgroup empties then.
      for (const d of readdirSync(root(c)).filter((n) => n.startsWith('server-')))
        await waitFor(() => removed(`${root(c)}/${d}`), { timeout: 10_000, what: `${d} to empty` });
      rmdirSync(root(c));
    }
  });

  it("asks for memory within the app's offer, and the server's cgroup gets what was chosen", async () => {
    const { page, errors } = await loginAs(browser, stack, 'alice');
    await waitForLauncher(page, 'alice');
    await page.getByRole('button', { name: 'Start Lab', exact: true }).click();
    const dialog = page.locator('#options-dialog');
    await dialog.waitFor();
    const mem = dialog.getByLabel('Memory (MB) (1–512)');
    assert.equal(await mem.inputValue(), '128');
    await mem.fill('256');
    await screenshot(page, 'limits-options');
    await dialog.getByRole('button', { name: 'Start', exact: true }).click();
    await waitUntilReady(page, 30_000);
    const server = stack.service.deps.store.get('alice', 'lab')!;
    assert.deepEqual(JSON.parse(server.options), { mem_mb: 256 });
    assert.equal(
      Number(readFileSync(`${root('memory')}/server-${server.id}/memory.limit_in_bytes`, 'utf8')),
      256 * 1024 * 1024,
    );
    await closeDialog(page, '#progress');
    assert.deepEqual(errors, [], 'the page threw');
  });

  it('shows the reason stopped: out of memory (limit 64 MiB) for a server the kernel killed at its limit', async () => {
    const { page, errors } = await loginAs(browser, stack, 'alice');
    await waitForLauncher(page, 'alice');
    await page.getByRole('button', { name: 'Start Greedy', exact: true }).click();
    await row(page, '#mine', 'alice', 'greedy')
      .getByText('stopped: out of memory (limit 64 MiB)')
      .waitFor({ timeout: 30_000 });
    await screenshot(page, 'limits-out-of-memory');
    const { id } = stack.service.deps.store.get('alice', 'greedy')!;
    await waitFor(() => !existsSync(`${root('memory')}/server-${id}`), {
      timeout: 10_000,
      what: "the service to remove the failed server's cgroup once its proxy is gone",
    });
    assert.deepEqual(errors, [], 'the page threw');
  });
});
