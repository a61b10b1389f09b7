import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { loadCatalogLenient } from '../../src/catalog/load.js';
import { PLACEHOLDERS } from '../../src/catalog/types.js';
import { problemsOf } from '../../src/config/error-list.js';
import { startLocalStack, type LocalStack } from '../helpers/stack.js';
import { tmpDir, type TmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { RELIABILITY_APPS } from './apps.js';

const KNOWN: ReadonlySet<string> = new Set(PLACEHOLDERS);
/** Text without braces, so the generator alone decides where braces go. */
const plain = fc.string({
  unit: fc.constantFrom('a', '-', '=', '/', ' ', '.', 'x', '%', '$'),
  maxLength: 12,
});
const unknownName = fc.stringMatching(/^[a-z_]{1,15}$/).filter((n) => !KNOWN.has(n));

/**
 * Scenario 7, app files: a placeholder the proxy would not expand, or a stray brace, makes
 * the catalog refuse the file and name the file and the key; the running service keeps
 * serving the good apps and refuses to start the bad one.
 */
describe('reliability: bad placeholders in app files are refused, naming the file and key', function () {
  this.timeout(60_000);
  let scratch: TmpDir;
  let n = 0;
  before(async () => (scratch = await tmpDir('badapps')));
  after(async () => {
    process.stderr.write(`      figures: ${n} app files tried\n`);
    await scratch?.remove();
  });

  /** Load a one-file catalog with `app` as x.yaml; the problems of that file (empty when it loaded). */
  const problems = (app: object): Array<{ file: string; key: string; message: string }> => {
    const dir = join(scratch.path, `c${++n}`);
    mkdirSync(dir);
    writeFileSync(join(dir, 'x.yaml'), stringify(app));
    const { catalog, errors } = loadCatalogLenient(dir);
    rmSync(dir, { recursive: true });
    const flat = errors.flatMap(problemsOf);
    assert.equal(
      catalog.get('x') === undefined,
      flat.length > 0,
      'an app must load exactly when it has no problem',
    );
    return flat.map((e) => ({ file: e.file, key: e.key, message: e.message }));
  };
  const refusedAt = (app: object, key: string, what: RegExp) => {
    const found = problems(app);
    assert.ok(found.length > 0, `accepted ${JSON.stringify(app)}`);
    for (const p of found) {
      assert.match(p.file, /\/x\.yaml$/);
      assert.equal(p.key, key);
      assert.match(p.message, what);
      assert.ok(p.message.includes('x.yaml') && p.message.includes(`'${key}'`), p.message);
    }
  };

  for (const [what, arg, message] of [
    ['an unknown placeholder', '--port={portt}', /unknown placeholder '\{portt\}'/],
    ['an upper-case placeholder', '{PORT}', /not a placeholder/],
    ['a placeholder with spaces', '{ port }', /not a placeholder/],
    ['an unmatched {', '--x={port', /unmatched '\{'/],
    ['an unmatched }', 'port}', /unmatched '\}'/],
    ['a nested brace', '{{port}', /unmatched '\}'/],
    ['an empty placeholder', '{}', /not a placeholder/],
    ['a shell-style variable', '${HOME}', /unknown placeholder '\{HOME\}'|not a placeholder/],
  ] as const) {
    it(`refuses ${what} in command and names the file and command[1]`, () =>
      refusedAt({ title: 'X', command: ['/bin/app', arg] }, 'command[1]', message));
  }

  it('refuses a bad placeholder in an environment value and names environment.NAME', () => {
    refusedAt(
      { title: 'X', command: ['/bin/app'], environment: { DATA: '{hoem}/data' } },
      'environment.DATA',
      /unknown placeholder '\{hoem\}'/,
    );
  });

  it('refuses every generated unknown placeholder, naming file and key (property)', () => {
    fc.assert(
      fc.property(plain, unknownName, plain, fc.nat({ max: 3 }), (pre, name, post, at) => {
        const command = ['/bin/app', 'a', 'b', 'c'];
        command[at] = `${pre}{${name}}${post}`;
        refusedAt(
          { title: 'X', command },
          `command[${at}]`,
          new RegExp(`unknown placeholder '\\{${name}\\}'`),
        );
      }),
      { numRuns: 300 },
    );
  });

  it('refuses every generated stray brace, naming file and key (property)', () => {
    fc.assert(
      fc.property(plain, fc.constantFrom('{', '}'), plain, (pre, brace, post) => {
        refusedAt(
          { title: 'X', command: ['/bin/app', `${pre}${brace}${post}`] },
          'command[1]',
          /unmatched/,
        );
      }),
      { numRuns: 300 },
    );
  });

  it('accepts every known placeholder with escaped braces around it (the refusals are not blanket)', () => {
    fc.assert(
      fc.property(
        plain,
        fc.constantFrom(...PLACEHOLDERS),
        plain,
        (pre, name, post) =>
          problems({ title: 'X', command: ['/bin/app', `${pre}{{${pre}}}{${name}}${post}`] })
            .length === 0,
      ),
      { numRuns: 200 },
    );
  });

  describe('in a running service', () => {
    let stack: LocalStack;
    before(async () => (stack = await startLocalStack({ apps: { tiny: RELIABILITY_APPS.tiny } })));
    after(async () => stack?.stop());

    it('keeps serving the good apps, does not list the bad one, and refuses to start it with a JSON 404 and no row', async () => {
      writeFileSync(
        join(stack.catalogDir, 'broken.yaml'),
        stringify({ title: 'Broken', command: ['/bin/app', '--port={portt}'] }),
      );
      writeFileSync(
        join(stack.catalogDir, 'fine.yaml'),
        stringify({ ...RELIABILITY_APPS.tiny, title: 'Fine' }),
      );
      await waitFor(
        async () =>
          (await stack.api('GET', '/apps')).body.apps.some(
            (a: { name: string }) => a.name === 'fine',
          ),
        { what: 'the catalog to reload' },
      );
      const names = (await stack.api('GET', '/apps')).body.apps.map(
        (a: { name: string }) => a.name,
      );
      assert.deepEqual(names, ['fine', 'tiny']);
      const r = await stack.api('POST', '/users/alice/servers/b', { app: 'broken' });
      assert.equal(r.status, 404);
      assert.match(r.body.message, /no app 'broken'/);
      assert.equal(stack.service.deps.store.list().length, 0);
    });
  });
});
