import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXAMPLE_APP } from '../../../scripts/config-docs/render.js';
import { ConfigErrorList, problemsOf } from '../../../src/config/error-list.js';
import { loadCatalog, loadCatalogLenient } from '../../../src/catalog/load.js';
import { configFailure } from '../../helpers/config-error.js';

const GOOD =
  'title: Terminal\ncommand: [/usr/bin/ttyd, "--port={port}", "--base-path={base_url}"]\n';

describe('loading the app catalog', () => {
  let root: string;
  let n = 0;
  /** A fresh catalog directory holding `files`. */
  const catalogDir = (files: Record<string, string>) => {
    const dir = join(root, `apps-${++n}.d`);
    mkdirSync(dir);
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    return dir;
  };
  const failure = configFailure;

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'hubapps-t-catalog-'));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('loads a valid app with its defaults, named after its file', () => {
    const dir = catalogDir({ 'terminal.yaml': GOOD });
    const catalog = loadCatalog(dir);
    const app = catalog.get('terminal');
    assert.ok(app);
    assert.equal(app.name, 'terminal');
    assert.equal(app.file, join(dir, 'terminal.yaml'));
    assert.equal(app.title, 'Terminal');
    assert.deepEqual(app.command, ['/usr/bin/ttyd', '--port={port}', '--base-path={base_url}']);
    assert.deepEqual(app.environment, {});
    assert.deepEqual(app.ready, { path: '/', status_below: 500, kind: 'http' });
    assert.equal(app.strip_prefix, true);
    assert.deepEqual(app.allowed_groups, []);
    assert.equal(catalog.get('nope'), undefined);
  });

  it('reads .yaml and .yml files sorted by name, and skips hidden and other files', () => {
    const dir = catalogDir({
      'zeta.yml': GOOD,
      'alpha.yaml': GOOD,
      '.#alpha.yaml': 'junk: [',
      'README.txt': 'not an app',
      'notes.yaml~': 'x',
    });
    const catalog = loadCatalog(dir);
    assert.deepEqual(
      catalog.list().map((a) => a.name),
      ['alpha', 'zeta'],
    );
    assert.deepEqual([...catalog.apps.keys()].sort(), ['alpha', 'zeta']);
  });

  it('loads the example app shown in docs/configuration.md', () => {
    const app = loadCatalog(catalogDir({ 'rstudio.yaml': EXAMPLE_APP })).get('rstudio');
    assert.equal(app?.environment.R_LIBS_USER, '{home}/R/library');
    assert.equal(app?.ready.timeout, 60);
  });

  it('refuses an environment that names a variable hubapps sets itself, naming the file and the variable', () => {
    const dir = catalogDir({
      'bad.yaml': `${GOOD}environment: {JUPYTERHUB_API_TOKEN: x, HUBAPPS_OWN_MARK: y}\n`,
    });
    const err = failure(() => loadCatalog(dir));
    assert.equal(err.file, join(dir, 'bad.yaml'));
    assert.match(err.message, /environment.*JUPYTERHUB_API_TOKEN.*set by hubapps itself/);
    assert.ok(!err.message.includes('HUBAPPS_OWN_MARK'), 'other HUBAPPS_ names stay allowed');
  });

  it('refuses an unknown placeholder in the command and names the file, the key and the placeholder', () => {
    const dir = catalogDir({ 'bad.yaml': 'title: Bad\ncommand: [app, --x, "--port={prot}"]\n' });
    const err = failure(() => loadCatalog(dir));
    assert.equal(err.file, join(dir, 'bad.yaml'));
    assert.equal(err.key, 'command[2]');
    assert.match(
      err.message,
      new RegExp(
        `^${join(dir, 'bad.yaml')}: key 'command\\[2\\]': unknown placeholder '\\{prot\\}'`,
      ),
    );
  });

  it('refuses an unknown placeholder in an environment value and names the variable', () => {
    const dir = catalogDir({
      'r.yaml': 'title: R\ncommand: [R]\nenvironment:\n  R_LIBS_USER: "{homedir}/R"\n',
    });
    const err = failure(() => loadCatalog(dir));
    assert.match(
      err.message,
      /: key 'environment\.R_LIBS_USER': unknown placeholder '\{homedir\}'/,
    );
  });

  it('accepts {{ and }} as literal braces and refuses a lone brace', () => {
    const ok = catalogDir({
      'json.yaml': 'title: J\ncommand: [app, "--conf={{\\"port\\": {port}}}"]\n',
    });
    assert.deepEqual(loadCatalog(ok).get('json')?.command, ['app', '--conf={{"port": {port}}}']);
    const bad = catalogDir({ 'json.yaml': 'title: J\ncommand: [app, "--conf={\\"port\\": 1}"]\n' });
    assert.match(
      failure(() => loadCatalog(bad)).message,
      /key 'command\[1\]': '\{"port": 1\}' is not a placeholder/,
    );
  });

  it('refuses a file whose name is not a valid app name', () => {
    const dir = catalogDir({ 'Bad Name.yaml': GOOD });
    const err = failure(() => loadCatalog(dir));
    assert.equal(err.file, join(dir, 'Bad Name.yaml'));
    assert.match(err.message, /app name 'Bad Name' \(the file name\) is invalid/);
  });

  it('refuses an app without a command', () => {
    const err = failure(() => loadCatalog(catalogDir({ 'x.yaml': 'title: X\n' })));
    assert.equal(err.key, 'command');
    assert.match(
      err.message,
      /key 'command': required key is missing: give the argv of the app's program, or 'builtin: terminal'/,
    );
  });

  it('refuses an unknown key with a hint, and a bad environment variable name', () => {
    const dir = catalogDir({ 'x.yaml': `${GOOD}strip_prefx: false\nenvironment: {"1BAD": x}\n` });
    const err = failure(() => loadCatalog(dir));
    const lines = err.message.split('\n');
    assert.ok(
      lines.some((l) => l.endsWith("unknown key 'strip_prefx' (did you mean 'strip_prefix'?)")),
      err.message,
    );
    assert.ok(
      lines.some((l) => l.includes("key 'environment.1BAD': invalid key name")),
      err.message,
    );
  });

  it('requires the icon file to exist next to the app file', () => {
    const dir = catalogDir({ 'x.yaml': `${GOOD}icon: x.svg\n` });
    assert.match(
      failure(() => loadCatalog(dir)).message,
      /key 'icon': icon file .*x\.svg does not exist/,
    );
    writeFileSync(join(dir, 'x.svg'), '<svg/>');
    assert.equal(loadCatalog(dir).get('x')?.icon, 'x.svg');
  });

  it('refuses the same app name defined twice (.yaml and .yml)', () => {
    const dir = catalogDir({ 'x.yaml': GOOD, 'x.yml': GOOD });
    assert.match(failure(() => loadCatalog(dir)).message, /x\.yml: app 'x' is defined twice/);
  });

  it('reports a YAML syntax error in an app file with the line', () => {
    const dir = catalogDir({ 'x.yaml': 'title: X\ncommand: [a, b\n' });
    assert.match(failure(() => loadCatalog(dir)).message, /x\.yaml: YAML syntax error at line \d+/);
  });

  it('lists the problems of every bad file in one error', () => {
    const dir = catalogDir({
      'a.yaml': 'title: A\n',
      'b.yaml': GOOD,
      'c.yaml': 'title: C\ncommand: ["{nope}"]\nextra: 1\n',
    });
    const err = failure(() => loadCatalog(dir));
    assert.ok(err instanceof ConfigErrorList);
    const files = err.problems.map((p) => p.file);
    assert.deepEqual(files, [join(dir, 'a.yaml'), join(dir, 'c.yaml'), join(dir, 'c.yaml')]);
  });

  it('leniently keeps the good apps and returns one error per bad file', () => {
    const dir = catalogDir({
      'a.yaml': 'title: A\n',
      'b.yaml': GOOD,
      'c.yaml': 'title: C\ncommand: ["{nope}"]\nextra: 1\n',
    });
    const { catalog, errors } = loadCatalogLenient(dir);
    assert.deepEqual(
      catalog.list().map((a) => a.name),
      ['b'],
    );
    assert.deepEqual(
      errors.map((e) => e.file),
      [join(dir, 'a.yaml'), join(dir, 'c.yaml')],
    );
    assert.equal(problemsOf(errors[1]!).length, 2);
  });

  it('reports a missing catalog directory by name, even when lenient', () => {
    const dir = join(root, 'missing.d');
    const err = failure(() => loadCatalogLenient(dir));
    assert.equal(err.message, `${dir}: catalog directory not found (catalog_dir)`);
  });

  it('loads an empty directory as an empty catalog', () => {
    assert.deepEqual(loadCatalog(catalogDir({})).list(), []);
  });
});
