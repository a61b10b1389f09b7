import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { problemsOf } from '../../../src/config/error-list.js';
import { loadCatalog } from '../../../src/catalog/load.js';
import { configFailure } from '../../helpers/config-error.js';
import { docRecipe } from '../../e2e/doc-recipes.js';

const JUPYTER = `title: Jupyter
command: [/usr/bin/jupyter-lab, "--port={port}", "--ServerApp.root_dir={form.workdir}"]
environment: {PROJECT: "{form.workdir}"}
form:
  workdir: {type: path, label: Working directory}
`;

describe('loading an app file with a launch form', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hubapps-t-form-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('loads the fields with their defaults', () => {
    writeFileSync(join(dir, 'jupyter.yaml'), JUPYTER);
    const app = loadCatalog(dir).get('jupyter');
    assert.deepEqual(app?.form, {
      workdir: {
        type: 'path',
        label: 'Working directory',
        help: '',
        kind: 'directory',
        default: '',
      },
    });
  });

  it('refuses a placeholder naming a field the form does not declare, naming the file and the key', () => {
    writeFileSync(
      join(dir, 'jupyter.yaml'),
      JUPYTER.replace('{form.workdir}"]', '{form.wokdir}"]'),
    );
    const err = configFailure(() => loadCatalog(dir));
    const problems = problemsOf(err).map((e) => e.message);
    assert.ok(
      problems.some((m) =>
        m.includes(
          `${join(dir, 'jupyter.yaml')}: key 'command[2]': '{form.wokdir}' names no field of this app's form: declare 'wokdir' under the key 'form' (fields: workdir)`,
        ),
      ),
      problems.join('\n'),
    );
  });

  it('refuses a form placeholder in an app without a form', () => {
    writeFileSync(join(dir, 'x.yaml'), 'title: X\ncommand: [/bin/app, "{form.mode}"]\n');
    const err = configFailure(() => loadCatalog(dir));
    assert.match(
      err.message,
      /key 'command\[1\]': '\{form\.mode\}' names no field of this app's form.*fields: none/,
    );
  });

  it('refuses a form value as the program (command[0]), naming the file and key', () => {
    writeFileSync(
      join(dir, 'x.yaml'),
      'title: X\ncommand: ["/opt/{form.tool}/bin/run"]\nform:\n  tool: {type: select, label: T, options: [{value: a}]}\n',
    );
    const err = configFailure(() => loadCatalog(dir));
    assert.match(
      err.message,
      /x\.yaml: key 'command\[0\]': the program cannot come from a launch form value/,
    );
  });

  it('refuses a field name that is not an identifier, naming the key', () => {
    writeFileSync(
      join(dir, 'x.yaml'),
      'title: X\ncommand: [/bin/app]\nform:\n  Work-Dir: {type: path, label: W}\n',
    );
    const err = configFailure(() => loadCatalog(dir));
    assert.match(err.message, /key 'form.*field names are a lower-case letter/);
  });
});

describe('the launch form examples of docs/apps.md', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'hubapps-t-form-docs-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('load as they are shown: Jupyter with a working directory, a Slurm app with partition and GPUs', () => {
    for (const name of ['jupyter', 'train'])
      writeFileSync(join(dir, `${name}.yaml`), docRecipe(name));
    const catalog = loadCatalog(dir);
    assert.equal(catalog.get('jupyter')?.form.workdir?.type, 'path');
    assert.deepEqual(catalog.get('train')?.slurm?.choices.partition, { options: ['short', 'gpu'] });
    assert.deepEqual(catalog.get('train')?.slurm?.choices.gpus, { max: 4 });
  });
});
