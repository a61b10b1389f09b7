import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { requirePrerequisite, requireRootOrSkip } from '../helpers/index.js';
import { waitFor } from '../helpers/wait.js';
import { apiFromPage, chromiumInstalled, launchChromium, newContext } from '../e2e/browser.js';
import { waitUntilReady } from '../e2e/launcher-page.js';
import { TEST_USERS, exists, lockDown, repoRoot, run, runOk } from './harness.js';
import { SystemStack } from './system-stack.js';

const { alice, bob } = TEST_USERS;
/** The group the app is limited to: alice joins it, bob (in the allowed-users group too) does not. */
const LAB = `hubapps-t-${process.env.HUBAPPS_TEST_TAG ?? ''}lab`;

/** Answers every request with its argv after the port and one environment variable, as JSON. */
const ECHO = `
import http.server, json, os, sys, html
port = int(sys.argv[1])
class Echo(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        seen = json.dumps({'argv': sys.argv[2:], 'verbose': os.environ.get('ECHO_VERBOSE')})
        body = ('<!doctype html><title>form echo</title><pre id="echo">' + html.escape(seen) + '</pre>').encode()
        self.send_response(200)
        self.send_header('content-type', 'text/html; charset=utf-8')
        self.end_headers()
        self.wfile.write(body)
http.server.HTTPServer(('127.0.0.1', port), Echo).serve_forever()
`.replace(/[{}]/g, (c) => c + c);

const FORM_APP = {
  title: 'Form echo',
  description: 'Shows the values of its launch form.',
  allowed_groups: [LAB],
  command: [
    '/usr/bin/python3',
    '-c',
    ECHO,
    '{port}',
    '--python={form.python}',
    '--threads={form.threads}',
    '--tag={form.tag}',
    '{form.workdir}',
  ],
  environment: { ECHO_VERBOSE: '{form.verbose}' },
  ready: { timeout: 20 },
  form: {
    python: {
      type: 'select',
      label: 'Python version',
      options: [{ value: '3.11' }, { value: '3.12' }],
    },
    threads: { type: 'number', label: 'Threads', min: 1, max: 8, default: 2 },
    tag: { type: 'text', label: 'Tag', pattern: '[a-z0-9-]*', max_length: 20 },
    workdir: { type: 'path', label: 'Working directory', help: 'A directory in your home.' },
    verbose: { type: 'checkbox', label: 'Verbose', true_value: 'on', false_value: 'off' },
  },
};

describe('system: launch forms in the launcher (Chromium, real sudo, real Unix groups)', function () {
  this.timeout(180_000);
  const stack = new SystemStack({ apps: { formecho: FORM_APP } });
  let browser: Browser | undefined;
  let launcher = '';

  before(async function () {
    requirePrerequisite(
      this,
      chromiumInstalled(),
      'needs /usr/bin/chromium (Debian package chromium)',
    );
    requireRootOrSkip(this);
    if (await exists('group', LAB)) await runOk('groupdel', [LAB]);
    await stack.setUp();
    await runOk('groupadd', [LAB]);
    await runOk('usermod', ['-aG', LAB, alice]);
    await runOk('install', ['-d', '-o', alice, '-g', alice, `/home/${alice}/projects`]);
    await runOk('install', ['-d', '-o', alice, '-g', alice, `/home/${alice}/projects/x`]);
    // The installed service serves the launcher page from next to its code, as a package does.
    const ui = join(stack.installed!.root, 'lib', 'dist', 'ui');
    await runOk('cp', ['-R', join(repoRoot(), 'dist', 'ui'), ui]);
    await lockDown(ui);
    await addServiceRoute(stack);
    launcher = `${stack.chp!.proxyUrl}/services/hubapps/`;
    browser = await launchChromium();
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed') stack.reportFailure(this.currentTest.title);
  });
  after(async () => {
    await browser?.close();
    await stack.tearDown();
    if (await exists('group', LAB)) await run('groupdel', [LAB]);
  });

  /** A fresh browser logged in as `user` through a login link minted with the admin token. */
  async function loginAs(user: string): Promise<Page> {
    const r = await stack.api('POST', `/users/${user}/login-links`, {});
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const page = await (await newContext(browser!)).newPage();
    await page.goto(r.body.url as string);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.locator('#who', { hasText: user }).waitFor();
    return page;
  }

  /** What the running app says it got, read through CHP in the user's browser. */
  async function echoed(page: Page): Promise<{ argv: string[]; verbose: string }> {
    const app = await page.context().newPage();
    await app.goto(`${stack.chp!.proxyUrl}/apps/${alice}/formecho/`);
    const text = await app.locator('#echo').textContent({ timeout: 20_000 });
    await app.close();
    return JSON.parse(text ?? '') as { argv: string[]; verbose: string };
  }

  async function stopServer(): Promise<void> {
    const r = await stack.api('DELETE', `/users/${alice}/servers/formecho`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    await stack.waitState(alice, 'formecho', ['stopped']);
  }

  it('starts the app with exactly the values alice chose, and offers them again when she starts it again', async () => {
    const page = await loginAs(alice);
    await page.getByRole('button', { name: 'Start Form echo', exact: true }).click();
    const dialog = page.locator('#options-dialog');
    await dialog.getByLabel('Python version').selectOption('3.12');
    await dialog.getByLabel('Threads (1–8)').fill('4');
    await dialog.getByLabel('Tag').fill('run-7');
    await dialog.getByLabel('Working directory').fill('projects/x');
    await dialog.getByLabel('Verbose').check();
    await dialog.getByRole('button', { name: 'Start', exact: true }).click();
    await waitUntilReady(page, 30_000);
    assert.deepEqual(await echoed(page), {
      argv: ['--python=3.12', '--threads=4', '--tag=run-7', `/home/${alice}/projects/x`],
      verbose: 'on',
    });
    await stopServer();

    await page.reload();
    // "Start again" in My servers asks the same form, filled in the same way.
    await page.getByRole('button', { name: 'Start formecho again', exact: true }).click();
    assert.equal(await dialog.getByLabel('Python version').inputValue(), '3.12');
    assert.equal(await dialog.getByLabel('Threads (1–8)').inputValue(), '4');
    assert.equal(await dialog.getByLabel('Tag').inputValue(), 'run-7');
    assert.equal(await dialog.getByLabel('Working directory').inputValue(), 'projects/x');
    assert.equal(await dialog.getByLabel('Verbose').isChecked(), true);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await page.context().close();
  });

  it('refuses a path outside the home and text off the pattern in the browser, naming the field, and starts nothing', async () => {
    const page = await loginAs(alice);
    await page.getByRole('button', { name: 'Start Form echo', exact: true }).click();
    const dialog = page.locator('#options-dialog');
    const tag = dialog.getByLabel('Tag');
    await tag.fill('Bad Tag!');
    await dialog.getByRole('button', { name: 'Start', exact: true }).click();
    const tagProblem = await tag.evaluate(
      (el) => (el as unknown as { validationMessage: string }).validationMessage,
    );
    assert.match(tagProblem, /must match the pattern \[a-z0-9-\]\*/);
    await tag.fill('ok');
    const dir = dialog.getByLabel('Working directory');
    await dir.fill('../../etc');
    await dialog.getByRole('button', { name: 'Start', exact: true }).click();
    assert.match(
      await dir.evaluate(
        (el) => (el as unknown as { validationMessage: string }).validationMessage,
      ),
      /'\.\.'/,
    );
    assert.ok(await dialog.isVisible(), 'the dialog stays open');
    assert.equal(stack.row(alice, 'formecho')?.state, 'stopped');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await page.context().close();
  });

  it('refuses the same values from the API when the browser check is bypassed, naming the field', async () => {
    const page = await loginAs(alice);
    const start = (form: Record<string, unknown>) =>
      apiFromPage(page, 'POST', `/users/${alice}/servers/formecho`, { app: 'formecho', form });
    const outside = await start({ workdir: '/etc' });
    assert.equal(outside.status, 400);
    assert.equal(outside.body.code, 'invalid_form_value');
    assert.match(outside.body.message, /form field 'workdir' \(Working directory\)/);
    const pattern = await start({ tag: 'x --rm' });
    assert.equal(pattern.body.code, 'invalid_form_value');
    assert.match(pattern.body.message, /form field 'tag' \(Tag\).*does not match/);
    const extra = await start({ program: '/bin/sh' });
    assert.equal(extra.body.code, 'unknown_form_field');
    assert.equal(stack.row(alice, 'formecho')?.state, 'stopped');
    await page.context().close();
  });

  it('fails the start in the proxy, as alice, when her chosen directory does not exist', async () => {
    const r = await stack.api('POST', `/users/${alice}/servers/formecho`, {
      app: 'formecho',
      form: { workdir: 'projects/missing' },
    });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const failed = await waitFor(
      () => {
        const row = stack.row(alice, 'formecho');
        return row?.state === 'failed' ? row : undefined;
      },
      { timeout: 20_000, what: 'the start to fail' },
    );
    assert.match(
      failed.reason ?? '',
      new RegExp(
        `form field 'workdir' \\(Working directory\\).*/home/${alice}/projects/missing does not exist`,
      ),
    );
  });

  it('pre-fills the form from a preset link, waits for the click, and leaves out a preset alice may not choose with a note', async () => {
    const page = await loginAs(alice);
    await page.goto(
      `${launcher}?start=formecho&form.python=3.11&form.tag=from-link&form.threads=99&form.workdir=projects`,
    );
    const dialog = page.locator('#options-dialog');
    await dialog.getByLabel('Tag').waitFor();
    assert.equal(await dialog.getByLabel('Python version').inputValue(), '3.11');
    assert.equal(await dialog.getByLabel('Tag').inputValue(), 'from-link');
    // The latest start (the API's, with the default 2) is what is remembered; the link's 99 is beyond the max.
    assert.equal(await dialog.getByLabel('Threads (1–8)').inputValue(), '2');
    await dialog
      .locator('#options-notes', { hasText: "The link's value for Threads was left out" })
      .waitFor();
    await page.waitForTimeout(1000);
    assert.equal(stack.row(alice, 'formecho')?.state, 'failed', 'nothing started before the click');
    await dialog.getByRole('button', { name: 'Start', exact: true }).click();
    await stack.waitState(alice, 'formecho', ['running'], 30_000);
    const seen = await echoed(page);
    assert.deepEqual(seen.argv, [
      '--python=3.11',
      '--threads=2',
      '--tag=from-link',
      `/home/${alice}/projects`,
    ]);
    await stopServer();
    await page.context().close();
  });

  it('shows bob, outside the group, neither the card nor the form of a preset link, and the API refuses his start', async () => {
    const page = await loginAs(bob);
    await page.locator('#cards .card').first().waitFor();
    assert.equal(await page.locator('.card[data-app="formecho"]').count(), 0);
    await page.goto(`${launcher}?start=formecho&form.tag=from-link`);
    await page.locator('#notice', { hasText: 'There is no app' }).waitFor();
    assert.match((await page.locator('#notice').textContent()) ?? '', /limited it to some groups/);
    assert.equal(await page.locator('#options-dialog').isVisible(), false);
    const r = await apiFromPage(page, 'POST', `/users/${bob}/servers/formecho`, {
      app: 'formecho',
      form: { tag: 'from-link' },
    });
    assert.equal(r.status, 403);
    assert.equal(r.body.code, 'app_not_allowed');
    const listed = await apiFromPage(page, 'GET', '/apps');
    assert.ok(!listed.body.apps.some((a: { name: string }) => a.name === 'formecho'));
    await page.context().close();
  });
});

/** The launcher's route in CHP, as JupyterHub adds it for a service (no hubapps data: reconcile leaves it alone). */
async function addServiceRoute(stack: SystemStack): Promise<void> {
  const res = await fetch(`${stack.chp!.apiUrl}/api/routes/services/hubapps`, {
    method: 'POST',
    headers: { authorization: `token ${stack.chpToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ target: `http://127.0.0.1:${stack.port}` }),
  });
  assert.equal(res.status, 201, `CHP answered ${res.status} to adding the service route`);
}
