/**
 * HubappsSpawner (src/jupyterhub/hubapps_spawner.py, as the build copies it to dist) run by
 * Debian's python3 against the real service: a driver script (spawner-driver.py) calls its
 * methods the way JupyterHub does, on JupyterHub's own ORM and Hub objects, and the test
 * checks what the service did and what the hub would show.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requirePrerequisite } from '../../helpers/index.js';
import { startLocalStack, type LocalStack } from '../../helpers/stack.js';
import { repoRoot } from '../../system/harness-install.js';

const PYTHON = '/usr/bin/python3';
const MODULE_DIR = join(repoRoot(), 'dist', 'src', 'jupyterhub');
const DRIVER = join(repoRoot(), 'test', 'integration', 'jupyterhub', 'spawner-driver.py');
const USER = 'alice';

const APPS = {
  web: {
    title: 'Web <b>files</b>',
    description: 'Serves "files" & more',
    command: [PYTHON, '-m', 'http.server', '{port}', '--bind', '127.0.0.1'],
    ready: { timeout: 20 },
    form: {
      depth: { type: 'number', label: 'Depth', min: 1, max: 5, default: 2 },
      flavour: {
        type: 'select',
        label: 'Flavour "><script>alert(1)</script>',
        options: [
          { value: 'plain', label: 'Plain' },
          { value: 'x"y', label: '<i>quoted</i>' },
        ],
      },
      verbose: { type: 'checkbox', label: 'Verbose' },
    },
  },
  broken: {
    title: 'Broken',
    command: [PYTHON, '-c', 'import sys; print("broken app gives up"); sys.exit(3)', '{port}'],
    ready: { timeout: 5 },
  },
};

interface Step {
  do: 'start' | 'poll' | 'stop' | 'options_form' | 'options_from_form' | 'state' | 'sse_bytewise';
  formdata?: Record<string, string[]>;
  text?: string;
}

interface DriverRun {
  results: Array<{ value?: any; error?: string; message?: string }>;
  progress: Array<{ progress?: number; message?: string }>;
  state: Record<string, string>;
}

describe('HubappsSpawner (Python, driven as JupyterHub drives it) against the real service', function () {
  this.timeout(60_000);
  let stack: LocalStack;
  let tokenFile: string;
  const spawnerToken = randomBytes(24).toString('base64url');
  const envName = `HUBAPPS_T_SPAWNER_${process.pid}`;

  before(async function () {
    let hasHub = false;
    try {
      execFileSync(PYTHON, ['-c', 'import jupyterhub']);
      hasHub = true;
    } catch {
      // reported below
    }
    requirePrerequisite(
      this,
      hasHub,
      `needs Debian's jupyterhub package (${PYTHON} -c 'import jupyterhub')`,
    );
    process.env[envName] = spawnerToken;
    stack = await startLocalStack({
      apps: APPS,
      config: { jupyterhub: { spawner_token: `env:${envName}` } },
    });
    tokenFile = join(stack.dir, 'spawner-token');
    writeFileSync(tokenFile, `${spawnerToken}\n`, { mode: 0o600 });
  });
  after(async () => {
    await stack?.stop();
    delete process.env[envName];
  });

  const hubappsUrl = () =>
    `${stack.service.urls.serviceOrigin}${stack.service.urls.servicePrefix()}`;

  /** One driver process: a fresh spawner (as after a hub restart) with `state`, running `steps`. */
  function drive(
    server: string,
    steps: Step[],
    extra: { state?: object; user_options?: object; config?: object } = {},
  ): Promise<DriverRun> {
    const spec = {
      user: USER,
      server,
      api_token: 'hub-issued-token',
      state: extra.state ?? {},
      user_options: extra.user_options ?? {},
      config: {
        hubapps_url: hubappsUrl(),
        token_file: tokenFile,
        start_timeout: 30,
        http_timeout: 10,
        ...extra.config,
      },
      steps,
    };
    return new Promise((resolve, reject) => {
      const child = execFile(
        PYTHON,
        [DRIVER],
        { env: { PATH: '/usr/bin:/bin', PYTHONPATH: MODULE_DIR }, timeout: 50_000 },
        (err, stdout, stderr) => {
          if (err) return reject(new Error(`driver failed: ${err.message}\n${stderr}`));
          try {
            resolve(JSON.parse(stdout) as DriverRun);
          } catch {
            reject(new Error(`driver printed no JSON: ${stdout}\n${stderr}`));
          }
        },
      );
      child.stdin!.end(JSON.stringify(spec));
    });
  }

  const row = (name: string) =>
    stack.service.deps.store.list().find((s) => s.user === USER && s.name === name);

  it("starts a named server: start returns the proxy target, progress is the hub's {progress, message}, the state names the server", async () => {
    const run = await drive('lab', [{ do: 'start' }, { do: 'poll' }, { do: 'state' }], {
      user_options: { app: 'web', form: { depth: 3 } },
    });
    const [start, poll, state] = run.results;
    assert.equal(start!.error, undefined, start!.message);
    assert.match(start!.value, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(poll!.value, null, 'poll: running');
    assert.deepEqual(state!.value, { hubapps_server: 'lab' });
    assert.equal(row('lab')?.state, 'running');

    // The hub's progress bar: numbers that never go back, each event with a message.
    const numbers = run.progress.map((e) => e.progress).filter((p) => p !== undefined);
    assert.ok(numbers.length >= 2, JSON.stringify(run.progress));
    assert.deepEqual(
      numbers,
      [...numbers].sort((a, b) => a - b),
    );
    assert.ok(numbers.every((p) => p > 0 && p < 100));
    assert.ok(run.progress.every((e) => typeof e.message === 'string' && e.message !== ''));
    assert.ok(!run.progress.some((e) => 'driver' in e), 'the progress stream ended with the start');

    // Where the hub's CHP will send /user/alice/lab/: the server's proxy answers there.
    const res = await fetch(`${start!.value}/user/${USER}/lab/`, { redirect: 'manual' });
    // Without a hub credential it lets nobody in (a 302 to the hub's login for a page load, a 401 otherwise).
    assert.ok([302, 401].includes(res.status), `the proxy answers ${res.status}`);
  });

  it('a new spawner with the saved state (a hub restart) sees it running, stops it, and then sees it stopped', async () => {
    const run = await drive('lab', [{ do: 'poll' }, { do: 'stop' }, { do: 'poll' }], {
      state: { hubapps_server: 'lab' },
    });
    const [before, stop, after] = run.results;
    assert.equal(before!.value, null);
    assert.equal(stop!.error, undefined, stop!.message);
    assert.equal(after!.value, 0);
    assert.equal(row('lab')?.state, 'stopped');
  });

  it('polls None while hubapps is down (a hubapps restart never ends a server at the hub), and running again after', async () => {
    const started = await drive('keep', [{ do: 'start' }], { user_options: { app: 'web' } });
    assert.equal(started.results[0]!.error, undefined, started.results[0]!.message);
    const state = started.state;
    await stack.service.close();
    try {
      const down = await drive('keep', [{ do: 'poll' }], { state });
      assert.equal(down.results[0]!.value, null);
    } finally {
      await stack.restartService();
    }
    const up = await drive('keep', [{ do: 'poll' }, { do: 'stop' }, { do: 'poll' }], { state });
    assert.deepEqual(
      up.results.map((r) => ('value' in r ? r.value : r.message)),
      [null, null, 0],
    );
  });

  it("maps the hub's default server to default_server_name, and a never-started spawner polls 0", async () => {
    const run = await drive(
      '',
      [{ do: 'poll' }, { do: 'start' }, { do: 'state' }, { do: 'stop' }],
      {
        config: { default_server_name: 'main', default_app: 'web' },
      },
    );
    const [fresh, start, state, stop] = run.results;
    assert.equal(fresh!.value, 0);
    assert.equal(start!.error, undefined, start!.message);
    assert.deepEqual(state!.value, { hubapps_server: 'main' });
    assert.equal(stop!.error, undefined, stop!.message);
    assert.equal(row('main')?.app, 'web');
  });

  it('a start the hub lost track of (it died mid-start) is replaced, not duplicated, by its next start', async () => {
    const first = await drive('again', [{ do: 'start' }], { user_options: { app: 'web' } });
    assert.equal(first.results[0]!.error, undefined, first.results[0]!.message);
    // The hub saved no state: a fresh spawner starts the same server.
    const second = await drive('again', [{ do: 'start' }, { do: 'stop' }], {
      user_options: { app: 'web' },
    });
    assert.equal(second.results[0]!.error, undefined, second.results[0]!.message);
    assert.notEqual(second.results[0]!.value, first.results[0]!.value, 'a new proxy');
    assert.equal(second.results[1]!.error, undefined, second.results[1]!.message);
    assert.deepEqual(
      stack.service.deps.store.active().filter((s) => s.name === 'again'),
      [],
      'no server of that name left running',
    );
  });

  it("leaves a server started from the launcher alone: the hub's start of that name fails with hubapps' reason", async () => {
    const mine = await stack.api('POST', `/users/${USER}/servers/mine`, { app: 'web' });
    assert.equal(mine.status, 202, JSON.stringify(mine.body));
    try {
      const run = await drive('mine', [{ do: 'start' }, { do: 'stop' }], {
        user_options: { app: 'web' },
      });
      assert.equal(run.results[0]!.error, 'HubappsError');
      assert.match(run.results[0]!.message!, /mine/);
      assert.equal(run.results[1]!.error, 'HubappsError', 'nor may the hub stop it');
      assert.ok(
        stack.service.deps.store.active().some((s) => s.name === 'mine'),
        'the launcher server still runs',
      );
    } finally {
      await stack.api('DELETE', `/users/${USER}/servers/mine`);
    }
  });

  it("surfaces hubapps' own message when a start fails, as the hub's error", async () => {
    const run = await drive('bad', [{ do: 'start' }], { user_options: { app: 'nope' } });
    assert.equal(run.results[0]!.error, 'HubappsError');
    assert.match(run.results[0]!.message!, /no app 'nope'/);

    const exits = await drive('broken', [{ do: 'start' }, { do: 'poll' }], {
      user_options: { app: 'broken' },
    });
    assert.equal(exits.results[0]!.error, 'HubappsError');
    assert.match(exits.results[0]!.message!, /hubapps could not start broken: .+/);
    assert.equal(exits.results[1]!.value, 0, 'a failed server polls as ended');

    const option = await drive('x', [{ do: 'start' }], {
      user_options: { app: 'web', options: { cmd: 'sh' } },
    });
    assert.match(option.results[0]!.message!, /no option 'cmd'/);

    const none = await drive('x', [{ do: 'start' }]);
    assert.match(none.results[0]!.message!, /choose an app/);
    const odd = await drive('x', [{ do: 'start' }], { user_options: { app: 'web', cmd: 'sh' } });
    assert.match(odd.results[0]!.message!, /unknown user option 'cmd'/);
  });

  it('says which file holds an unreadable token, and passes on the refusal of a wrong one', async () => {
    const missing = join(stack.dir, 'no-such-token');
    const run = await drive('lab', [{ do: 'start' }], {
      user_options: { app: 'web' },
      config: { token_file: missing },
    });
    assert.match(
      run.results[0]!.message!,
      new RegExp(`cannot read the hubapps spawner token from ${missing}`),
    );

    const wrong = join(stack.dir, 'wrong-token');
    writeFileSync(wrong, 'not-the-token\n');
    const refused = await drive('lab', [{ do: 'start' }], {
      user_options: { app: 'web' },
      config: { token_file: wrong },
    });
    assert.equal(refused.results[0]!.error, 'HubappsError');
    assert.match(refused.results[0]!.message!, /authentication required/);
    assert.equal(row('lab')?.state ?? 'stopped', 'stopped', 'nothing started with a wrong token');

    // The spawn page shows why it has no apps to offer, rather than the hub's bare 500.
    const form = await drive('lab', [{ do: 'options_form' }], { config: { token_file: wrong } });
    assert.equal(form.results[0]!.error, undefined, form.results[0]!.message);
    assert.match(
      String(form.results[0]!.value),
      /^<p class="alert alert-warning">The list of apps is not available: .*authentication required/,
    );
  });

  it('reads the progress stream however it is cut, characters of several bytes included', async () => {
    const text =
      'id: 7\nevent: progress\ndata: {"message": "caf\u00e9 \u2013 \u{1F680} ready"}\n\n' +
      ': keep-alive\n\nevent: done\ndata: {"state": "running"}\n\n';
    const run = await drive('lab', [{ do: 'sse_bytewise', text }]);
    assert.deepEqual(run.results[0]!.value, [
      ['progress', { message: 'caf\u00e9 \u2013 \u{1F680} ready' }],
      ['done', { state: 'running' }],
    ]);
  });

  it('renders the catalog as the spawn form, escaped, and reads the submitted form back as user_options', async () => {
    const run = await drive('lab', [
      { do: 'options_form' },
      {
        do: 'options_from_form',
        formdata: {
          app: ['web'],
          'web.depth.number': ['4'],
          'web.flavour.text': ['x"y'],
          'web.verbose.checkbox': ['false', 'true'],
          'broken.other.text': ['ignored'],
        },
      },
      { do: 'options_from_form', formdata: { app: ['web'], 'web.depth.number': ['many'] } },
    ]);
    const form: string = run.results[0]!.value;
    // One choice per app, in the catalog's order; the first is picked.
    assert.match(form, /<input type="radio" name="app" value="broken" checked>/);
    assert.match(form, /<input type="radio" name="app" value="web">/);
    assert.ok(form.includes('Web &lt;b&gt;files&lt;/b&gt;'), form);
    assert.ok(form.includes('Serves &quot;files&quot; &amp; more'), form);
    assert.ok(!form.includes('<script>'), 'a label cannot inject markup');
    assert.ok(form.includes('&lt;i&gt;quoted&lt;/i&gt;'));
    assert.ok(form.includes('value="x&quot;y"'));
    assert.match(form, /name="web\.depth\.number" value="2" min="1" max="5" step="1"/);
    assert.match(run.results[2]!.message!, /depth: 'many' is not a number/);
    assert.deepEqual(run.results[1]!.value, {
      app: 'web',
      form: { depth: 4, flavour: 'x"y', verbose: true },
    });
  });
});
