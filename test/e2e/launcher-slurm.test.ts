import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { requirePrerequisite, requireRootOrSkip } from '../helpers/prereq.js';
import { run } from '../system/harness.js';
import { ensureCluster, requireSlurm } from '../system/slurm-cluster.js';
import { chromiumInstalled, launchChromium } from './browser.js';
import { loginAs, screenshot, waitForLauncher, waitUntilReady } from './launcher-page.js';
import { APPS, startLauncherStack, type LauncherStack } from './launcher-stack.js';

const JOB_APP = {
  ...APPS.hello,
  title: 'Hello on the cluster',
  description: 'The small web app, as a Slurm job.',
  slurm: {
    mem_mb: 128,
    cpus: 1,
    time_minutes: 30,
    choices: {
      hours: { max: 4 },
      cpus: { max: 2 },
      partition: { options: ['debug'] },
      gpus: { max: 1 },
    },
  },
};

describe('launcher page: starting an app as a Slurm job with a resource choice (Chromium, CHP, real Slurm)', function () {
  this.timeout(120_000);
  let browser: Browser;
  let stack: LauncherStack;

  before(async function () {
    requirePrerequisite(
      this,
      chromiumInstalled(),
      'needs /usr/bin/chromium (Debian package chromium)',
    );
    // The local launcher submits as the service's own user: root, which the test cluster accepts.
    requireRootOrSkip(this, 'needs root (it starts the single-node Slurm cluster)');
    requireSlurm(this);
    await ensureCluster();
    browser = await launchChromium();
    stack = await startLauncherStack({ slurm: { apps: ['hellojob'] } }, { hellojob: JOB_APP });
  });
  after(async () => {
    await run('scancel', ['--name=hubapps-hellojob']);
    await browser?.close();
    await stack?.stop();
  });

  it("marks the app as a cluster job, asks for partition, hours, cores and GPUs within the admin's limits, submits the job with them, and opens the app from the node", async () => {
    const { page, errors } = await loginAs(browser, stack, 'alice');
    await waitForLauncher(page, 'alice');
    await page
      .locator('.card[data-app="hellojob"] .runs-on', { hasText: 'Runs as a job on the cluster' })
      .waitFor();
    assert.equal(await page.locator('.card[data-app="hello"] .runs-on').count(), 0);
    await page.getByRole('button', { name: 'Start Hello on the cluster', exact: true }).click();
    const dialog = page.locator('#options-dialog');
    await dialog.waitFor();
    const hours = dialog.getByLabel('Hours (1–4)');
    assert.equal(await hours.inputValue(), '1');
    assert.equal(await hours.getAttribute('max'), '4');
    await hours.fill('3');
    await dialog.getByLabel('CPU cores (1–2)').fill('2');
    assert.equal(await dialog.getByLabel('Partition').inputValue(), 'debug');
    assert.equal(await dialog.getByLabel('GPUs (0–1)').inputValue(), '0');
    assert.equal(await dialog.getByLabel('GPUs (0–1)').getAttribute('max'), '1');
    await screenshot(page, 'slurm-options');
    await dialog.getByRole('button', { name: 'Start', exact: true }).click();
    await page.locator('#progress').waitFor();
    await waitUntilReady(page, 60_000);
    const said = await page.locator('#progress-messages').textContent();
    assert.match(said ?? '', /listening on \S+:\d+/);
    const row = stack.service.deps.store.get('alice', 'hellojob')!;
    assert.equal(row.launcher, 'slurm');
    const { jobId } = JSON.parse(row.launcher_state!) as { jobId: string };
    const job = (await run('scontrol', ['-o', 'show', 'job', jobId])).stdout;
    assert.match(job, /TimeLimit=03:00:00/);
    assert.match(job, /NumCPUs=2/);
    assert.match(job, /Partition=debug/);
    assert.deepEqual(JSON.parse(row.options), { partition: 'debug', hours: 3, cpus: 2, gpus: 0 });
    const opened = page.waitForEvent('popup').catch(() => null);
    await page.locator('#progress-open').click();
    const target = (await opened) ?? page;
    await target.locator('#app', { hasText: 'e2e app' }).waitFor({ timeout: 20_000 });
    assert.deepEqual(errors, [], 'the page threw');
  });
});
