import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formSchema } from '../../../../src/catalog/form.js';
import type { CatalogApp } from '../../../../src/catalog/types.js';
import { HubappsError } from '../../../../src/errors.js';
import { planLaunch } from '../../../../src/proxy/app/launch-plan.js';
import type { StartRequest } from '../../../../src/protocol/wire.js';
import { tmpDir, type TmpDir } from '../../../helpers/index.js';

/** The primary group of the user running the tests, as the proxy will find it among its own. */
const OWN_GROUP = execFileSync('/usr/bin/id', ['-gn'], { encoding: 'utf8' }).trim();

const REQUEST = {
  op: 'start',
  version: 1,
  server: { id: 7, user: 'alice', name: 'echo' },
  app: 'echo',
  options: {},
  port: 50124,
  appPort: 50125,
  secret: 'not-used-by-the-plan-0123456789',
  publicOrigin: 'https://hub.example.org',
  allowedOrigins: [],
  framing: { frames: 'server', popups: 'isolate' },
  prefix: '/apps/alice/echo/',
  serviceUrl: 'http://127.0.0.1:10101/services/hubapps/',
  stopGraceMs: 1000,
  readyTimeoutMs: 5000,
  logMaxBytes: 1 << 20,
} satisfies StartRequest;

const ECHO: CatalogApp = {
  name: 'echo',
  file: '/etc/hubapps/apps.d/echo.yaml',
  title: 'Echo',
  description: '',
  command: [
    '/usr/bin/echo-app',
    '--port={port}',
    '--tag={form.tag}',
    '{form.note}',
    '--dir={form.workdir}',
  ],
  environment: { MODE: '{form.mode}', LEVEL: 'level-{form.verbose}' },
  form: formSchema.parse({
    tag: { type: 'text', label: 'Tag', pattern: '.*', max_length: 200 },
    note: { type: 'text', label: 'Note', pattern: '[^\\n]*', max_length: 200 },
    workdir: { type: 'path', label: 'Working directory' },
    mode: {
      type: 'select',
      label: 'Mode',
      options: [{ value: 'plain' }, { value: 'fast', groups: ['hubapps-t-no-such-group'] }],
    },
    verbose: { type: 'checkbox', label: 'Verbose', true_value: 'high', false_value: 'low' },
    cores: {
      type: 'number',
      label: 'Cores',
      min: 1,
      max: 2,
      max_by_group: { 'hubapps-t-no-such-group': 8, [OWN_GROUP]: 4 },
    },
  }),
  ready: { path: '/', status_below: 500, kind: 'http' },
  strip_prefix: true,
  max_servers: 0,
  allowed_groups: [],
  hidden: false,
  shareable: true,
};

describe("the proxy's launch plan with launch form values", () => {
  let home: TmpDir;
  let account: { username: string; homedir: string; shell: string };
  before(async () => {
    home = await tmpDir('form-home');
    mkdirSync(join(home.path, 'project'));
    writeFileSync(join(home.path, 'notes.txt'), 'x');
    account = { username: 'alice', homedir: home.path, shell: '/bin/sh' };
  });
  after(() => home.remove());

  const plan = (form: Record<string, unknown>) => planLaunch(ECHO, { ...REQUEST, form }, account);
  const refused = async (form: Record<string, unknown>): Promise<HubappsError> => {
    try {
      await plan(form);
    } catch (err) {
      assert.ok(err instanceof HubappsError, String(err));
      return err;
    }
    assert.fail(`expected ${JSON.stringify(form)} to be refused by the proxy`);
  };

  it('puts each value inside its own argument: hostile text never adds an argument or changes the program', async () => {
    const hostile = [
      'a b',
      '--x',
      '; rm -rf ~',
      '$(id)',
      '{port}',
      '{{port}}',
      '{form.tag}',
      '../..',
      '\' " \\',
    ];
    for (const text of hostile) {
      const p = await plan({ tag: text, note: text });
      assert.equal(p.argv.length, 5, text);
      assert.equal(p.argv[0], '/usr/bin/echo-app');
      assert.equal(p.argv[1], '--port=50125');
      assert.equal(p.argv[2], `--tag=${text}`, 'the value is not expanded again');
      assert.equal(p.argv[3], text);
    }
  });

  it("refuses a newline even where the admin's pattern would let it through", async () => {
    const err = await refused({ note: 'x\n--evil' });
    assert.equal(err.code, 'invalid_form_value');
    assert.match(err.message, /form field 'note' \(Note\).*control characters/);
  });

  it('fills the environment from the form: the select value and the checkbox words', async () => {
    const on = await plan({ verbose: true });
    assert.equal(on.env.MODE, 'plain');
    assert.equal(on.env.LEVEL, 'level-high');
    assert.equal((await plan({})).env.LEVEL, 'level-low');
  });

  it('turns a path into its absolute form under the home directory', async () => {
    assert.equal((await plan({ workdir: 'project' })).argv[4], `--dir=${home.path}/project`);
    assert.equal((await plan({})).argv[4], `--dir=${home.path}`);
  });

  it('refuses, with the field named, a path that does not exist or is a file where a directory is asked for', async () => {
    const missing = await refused({ workdir: 'nope' });
    assert.equal(missing.code, 'form_path_missing');
    assert.match(
      missing.message,
      /form field 'workdir' \(Working directory\).*\/nope does not exist/,
    );
    const file = await refused({ workdir: 'notes.txt' });
    assert.match(file.message, /notes\.txt is not a directory/);
  });

  it('checks the values again itself: a path outside the home, an unknown field, an option of a group the user is not in', async () => {
    assert.equal((await refused({ workdir: '/etc' })).code, 'invalid_form_value');
    assert.equal((await refused({ workdir: '../../etc' })).code, 'invalid_form_value');
    assert.equal((await refused({ program: '/bin/sh' })).code, 'unknown_form_field');
    const group = await refused({ mode: 'fast' });
    assert.match(group.message, /'fast' is not a value you may choose/);
  });

  it('refuses to run an app file whose program would come from a form value, whoever wrote it', async () => {
    const app = { ...ECHO, command: ['/opt/{form.tag}/run', '{port}'] };
    await assert.rejects(
      planLaunch(app, { ...REQUEST, form: { tag: 'x' } }, account),
      /key 'command\[0\]': the program cannot come from a launch form value/,
    );
  });

  it("raises a number's maximum only for the groups the user is really in, as id reports them", async () => {
    assert.equal((await plan({ cores: 4 })).argv.length, 5);
    const beyond = await refused({ cores: 5 });
    assert.match(beyond.message, /form field 'cores' \(Cores\).*outside the allowed range 1 to 4/);
  });
});
