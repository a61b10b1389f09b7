import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { requirePrerequisite } from '../helpers/index.js';
import { waitFor } from '../helpers/wait.js';
import { TEST_USERS, lockDown, runOk } from '../system/harness.js';
import { apiFromPage, hubLogin, newContext } from './browser.js';
import { docRecipe } from './doc-recipes.js';
import { waitForLauncher, waitUntilReady } from './launcher-page.js';
import { connectAs } from '../system/harness-guard.js';
import { HubStack } from './stack.js';
import { useHubStack } from './hub-suite.js';

const { alice, mallory } = TEST_USERS;
const APPS = ['notebook', 'shiny', 'files'] as const;
const BIG_FILE_MIB = 100;

/** Two cells: the first says who runs the kernel and leaves a variable behind, the second reads it. */
const NOTEBOOK = {
  cells: [
    {
      cell_type: 'code',
      execution_count: null,
      metadata: {},
      outputs: [],
      source: [
        'import os, pwd\n',
        'answer = 6 * 7\n',
        'print("kernel of", pwd.getpwuid(os.getuid()).pw_name, "uid", os.getuid())',
      ],
    },
    {
      cell_type: 'code',
      execution_count: null,
      metadata: {},
      outputs: [],
      source: ['print("answer is", answer)'],
    },
  ],
  metadata: {
    kernelspec: { display_name: 'Python 3 (ipykernel)', language: 'python', name: 'python3' },
  },
  nbformat: 4,
  nbformat_minor: 4,
};

const SHINY_APP = `library(shiny)
ui <- fluidPage(textInput("name", "Your name"), textOutput("greeting"))
server <- function(input, output) {
  output$greeting <- renderText(paste0("hello ", input$name, ", from R as ", Sys.info()[["effective_user"]]))
}
shinyApp(ui, server)
`;

describe('e2e: third-party apps from Debian packages, started from the launcher as a real user (sudo, CHP, JupyterHub, Chromium)', function () {
  this.timeout(120_000);
  // The guard on: the Shiny and Files recipes listen on a loopback {port}.
  const stack = new HubStack({ portGuard: true });
  let browser: Browser;
  let context: BrowserContext;
  let launcher: Page;
  let home = '';
  let uid = 0;
  const url = (path: string) => `${stack.publicUrl}${path}`;

  /** Press Start on the app's card, wait for "ready", press Open: the browser goes through the authorize flow into the app. */
  async function startFromLauncher(title: string, timeout: number): Promise<Page> {
    await launcher.goto(url('/services/hubapps/'));
    await waitForLauncher(launcher, alice);
    await launcher.getByRole('button', { name: `Start ${title}`, exact: true }).click();
    await waitUntilReady(launcher, timeout);
    const href = (await launcher.locator('#progress-open').getAttribute('href'))!;
    const page = await context.newPage();
    await page.goto(new URL(href, launcher.url()).toString());
    return page;
  }

  /** Alice's files, owned by her, as she would have put them there. */
  async function putInHome(rel: string, content: string | Buffer): Promise<string> {
    const file = join(home, rel);
    await mkdir(join(file, '..'), { recursive: true });
    await writeFile(file, content);
    await runOk('chown', ['-R', `${alice}:`, join(home, rel.split('/')[0]!)]);
    return file;
  }

  useHubStack(stack, {
    setUpMs: 180_000,
    prerequisites: (ctx) => {
      requirePrerequisite(
        ctx,
        existsSync('/usr/bin/jupyter-notebook') && existsSync('/usr/share/jupyter/kernels/python3'),
        'needs jupyter-notebook and python3-ipykernel',
      );
      requirePrerequisite(ctx, existsSync('/usr/lib/R/site-library/shiny'), 'needs r-cran-shiny');
    },
    ready: async (b) => {
      browser = b;
      for (const name of APPS)
        await writeFile(join(stack.installed!.catalogDir, `${name}.yaml`), docRecipe(name));
      await lockDown(stack.installed!.catalogDir);
      const passwd = (await runOk('getent', ['passwd', alice])).stdout.split(':');
      uid = Number(passwd[2]);
      home = passwd[5]!;
      await putInHome('probe.ipynb', JSON.stringify(NOTEBOOK, null, 1));
      await putInHome('shiny-app/app.R', SHINY_APP);
      await mkdir(join(home, 'public_html'));
      await runOk('dd', [
        'if=/dev/urandom',
        `of=${join(home, 'public_html', 'big.bin')}`,
        'bs=1M',
        `count=${BIG_FILE_MIB}`,
        'status=none',
      ]);
      await runOk('chown', ['-R', `${alice}:`, join(home, 'public_html')]);
      context = await newContext(browser);
      launcher = await context.newPage();
      await hubLogin(launcher, stack.publicUrl, alice, stack.password);
      await waitForLauncher(launcher, alice);
    },
  });

  it('uses the recipes of docs/apps.md byte for byte as the catalog, and the launcher offers them', async () => {
    for (const name of APPS) {
      assert.equal(
        readFileSync(join(stack.installed!.catalogDir, `${name}.yaml`), 'utf8'),
        docRecipe(name),
      );
    }
    const { body } = await apiFromPage(launcher, 'GET', '/apps');
    const titles = (body.apps as { name: string; title: string }[])
      .filter((a) => (APPS as readonly string[]).includes(a.name))
      .map((a) => a.title);
    assert.deepEqual(titles.sort(), ['Files', 'Jupyter Notebook', 'Shiny app']);
  });

  describe('Jupyter Notebook (Debian jupyter-notebook 6.4, on a unix socket)', () => {
    let kernelId = '';

    it('opens a notebook and runs a cell whose kernel runs as the user, with her uid', async () => {
      const tree = await startFromLauncher('Jupyter Notebook', 90_000);
      await tree.waitForURL(/\/apps\/[^/]+\/notebook\/tree/);
      await tree.locator('a', { hasText: 'probe.ipynb' }).first().waitFor();
      await tree.close();
      const nb = await context.newPage();
      await nb.goto(url(`/apps/${alice}/notebook/notebooks/probe.ipynb`));
      await nb.locator('#kernel_indicator_icon.kernel_idle_icon').waitFor({ timeout: 60_000 });
      await nb.locator('.cell').nth(0).locator('.input_area').click();
      await nb.keyboard.press('Shift+Enter');
      await nb.locator('.cell').nth(0).locator('.output_text').waitFor({ timeout: 30_000 });
      assert.equal(
        (await nb.locator('.cell').nth(0).locator('.output_text').textContent())!.trim(),
        `kernel of ${alice} uid ${uid}`,
      );
      kernelId = await nb.evaluate(
        () =>
          (globalThis as unknown as { Jupyter: { notebook: { kernel: { id: string } } } }).Jupyter
            .notebook.kernel.id,
      );
      assert.match(kernelId, /^[0-9a-f-]{36}$/);
      await nb.close();
    });

    it('keeps the kernel and its variables when the service is killed with SIGKILL and restarted; a reopened notebook finds them', async () => {
      await stack.killAndRestartService();
      await waitFor(
        async () =>
          (await apiFromPage(launcher, 'GET', `/users/${alice}/servers/notebook`)).body.state ===
          'running',
        {
          timeout: 20_000,
          what: 'the restarted service to report the notebook server running',
        },
      );
      const nb = await context.newPage();
      await nb.goto(url(`/apps/${alice}/notebook/notebooks/probe.ipynb`));
      await nb.locator('#kernel_indicator_icon.kernel_idle_icon').waitFor({ timeout: 60_000 });
      assert.equal(
        await nb.evaluate(
          () =>
            (globalThis as unknown as { Jupyter: { notebook: { kernel: { id: string } } } }).Jupyter
              .notebook.kernel.id,
        ),
        kernelId,
      );
      await nb.locator('.cell').nth(1).locator('.input_area').click();
      await nb.keyboard.press('Shift+Enter');
      await nb.locator('.cell').nth(1).locator('.output_text').waitFor({ timeout: 30_000 });
      assert.equal(
        (await nb.locator('.cell').nth(1).locator('.output_text').textContent())!.trim(),
        'answer is 42',
      );
      await nb.close();
    });

    it("lets a script with alice's hubapps token read through the notebook's REST API, while the notebook itself refuses writes without its _xsrf (as docs/api.md says)", async () => {
      const created = await apiFromPage(launcher, 'POST', `/users/${alice}/tokens`, {
        note: 'script',
        expires_in: 600,
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const headers = { authorization: `token ${created.body.token as string}` };
      const api = url(`/apps/${alice}/notebook/api/contents`);
      const read = await fetch(api, { headers, redirect: 'manual' });
      assert.equal(read.status, 200);
      assert.ok(
        ((await read.json()) as { content: { name: string }[] }).content.some(
          (f) => f.name === 'probe.ipynb',
        ),
      );
      const write = await fetch(api, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'notebook' }),
        redirect: 'manual',
      });
      assert.equal(write.status, 403);
      assert.match(await write.text(), /_xsrf/);
    });
  });

  it("R Shiny: typing into a reactive input updates the output over the app's WebSocket, computed as the user", async () => {
    const page = await startFromLauncher('Shiny app', 60_000);
    const frames: string[] = [];
    const sockets: string[] = [];
    page.on('websocket', (ws) => {
      sockets.push(new URL(ws.url()).pathname);
      ws.on('framereceived', (f) => frames.push(String(f.payload)));
    });
    await page.locator('input#name').waitFor();
    await page.locator('input#name').fill('Ada');
    await page.locator('#greeting', { hasText: 'hello Ada' }).waitFor({ timeout: 20_000 });
    assert.equal(await page.locator('#greeting').textContent(), `hello Ada, from R as ${alice}`);
    assert.ok(
      sockets.some((p) => p.startsWith(`/apps/${alice}/shiny/`)),
      `no WebSocket under the server's prefix: ${sockets.join(' ')}`,
    );
    assert.ok(
      frames.some((f) => f.includes(`hello Ada, from R as ${alice}`)),
      'the new output did not arrive over the WebSocket',
    );
    assert.equal(
      await connectAs(mallory, stack.server(alice, 'shiny')!.port),
      'ECONNREFUSED',
      "another local account reached the Shiny app's port",
    );
    await page.close();
  });

  it('static files (python3 -m http.server): a 100 MB download through the listing link arrives complete and unchanged', async () => {
    const page = await startFromLauncher('Files', 30_000);
    const [download] = await Promise.all([
      page.waitForEvent('download', { timeout: 60_000 }),
      page.locator('a', { hasText: 'big.bin' }).click(),
    ]);
    const saved = await download.path();
    assert.ok(saved, `the download failed: ${await download.failure()}`);
    assert.equal(statSync(saved).size, BIG_FILE_MIB * 1024 * 1024);
    assert.equal(await sha256(saved), await sha256(join(home, 'public_html', 'big.bin')));
    assert.equal(
      await connectAs(mallory, stack.server(alice, 'files')!.port),
      'ECONNREFUSED',
      "another local account reached the listing of alice's files",
    );
    await page.close();
  });
});

function sha256(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')))
      .on('error', reject);
  });
}
