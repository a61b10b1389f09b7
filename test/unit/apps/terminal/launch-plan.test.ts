import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { dirname } from 'node:path';
import { planLaunch } from '../../../../src/proxy/app/launch-plan.js';
import type { CatalogApp } from '../../../../src/catalog/types.js';
import type { StartRequest } from '../../../../src/protocol/wire.js';
import { tmpDir, type TmpDir } from '../../../helpers/index.js';

const REQUEST = {
  op: 'start',
  version: 1,
  server: { id: 12, user: 'alice', name: 'shell' },
  app: 'terminal',
  options: {},
  port: 50123,
  secret: 'not-used-by-the-plan-0123456789',
  publicOrigin: 'https://hub.example.org',
  allowedOrigins: [],
  framing: { frames: 'server', popups: 'isolate' },
  prefix: '/apps/alice/shell/',
  serviceUrl: 'http://127.0.0.1:10101/services/hubapps/',
  stopGraceMs: 1000,
  readyTimeoutMs: 5000,
  logMaxBytes: 1 << 20,
} satisfies StartRequest;

const TERMINAL: CatalogApp = {
  name: 'terminal',
  file: '/etc/hubapps/apps.d/terminal.yaml',
  title: 'Terminal',
  description: '',
  builtin: 'terminal',
  form: {},
  environment: { EDITOR: 'nano', WORK: '{home}/work' },
  ready: { path: '/', status_below: 500, kind: 'http' },
  strip_prefix: true,
  max_servers: 0,
  allowed_groups: [],
  hidden: false,
  shareable: true,
};

describe('launch plan of the built-in terminal', () => {
  let runtime: TmpDir;
  before(async () => {
    runtime = await tmpDir('terminal-plan');
  });
  after(() => runtime.remove());

  const env = () => ({
    XDG_RUNTIME_DIR: runtime.path,
    LANG: 'de_DE.UTF-8',
    SHELL: '/bin/zsh',
    SECRET_OF_THE_PROXY: 'x',
  });
  const account = { username: 'alice', homedir: '/home/alice', shell: '/bin/bash' };

  it("runs the account's shell as a login shell in the home directory, listening on a private unix socket", async () => {
    const plan = await planLaunch(TERMINAL, REQUEST, account, env());
    assert.deepEqual(plan.argv, ['/bin/bash', '-l']);
    assert.equal(plan.cwd, '/home/alice');
    assert.equal(plan.builtin, 'terminal');
    assert.ok(
      'socket' in plan.target,
      'a unix socket, not a loopback port other users could reach',
    );
    assert.equal(statSync(dirname(plan.target.socket)).mode & 0o777, 0o700);
  });

  it('gives the shell the clean environment of apps plus TERM, COLORTERM, the locale and the declared variables', async () => {
    const plan = await planLaunch(TERMINAL, REQUEST, account, env());
    assert.equal(plan.env.TERM, 'xterm-256color');
    assert.equal(plan.env.COLORTERM, 'truecolor');
    assert.equal(plan.env.LANG, 'de_DE.UTF-8');
    assert.equal(plan.env.HOME, '/home/alice');
    assert.equal(plan.env.USER, 'alice');
    assert.equal(plan.env.SHELL, '/bin/bash');
    assert.equal(plan.env.EDITOR, 'nano');
    assert.equal(plan.env.WORK, '/home/alice/work');
    assert.equal(plan.env.HUBAPPS_SERVER_ID, '12');
    assert.equal(plan.env.SECRET_OF_THE_PROXY, undefined);
    assert.ok(!Object.values(plan.env).includes(REQUEST.secret));
  });

  it('falls back to C.UTF-8, then to $SHELL and /bin/sh when the account names no shell', async () => {
    const { LANG: _lang, ...noLang } = env();
    const fromEnv = await planLaunch(TERMINAL, REQUEST, { ...account, shell: null }, noLang);
    assert.equal(fromEnv.env.LANG, 'C.UTF-8');
    assert.deepEqual(fromEnv.argv, ['/bin/zsh', '-l']);
    const { SHELL: _shell, ...noShell } = env();
    assert.deepEqual(
      (await planLaunch(TERMINAL, REQUEST, { ...account, shell: '' }, noShell)).argv,
      ['/bin/sh', '-l'],
    );
  });
});
