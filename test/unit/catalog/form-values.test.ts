import assert from 'node:assert/strict';
import { formSchema } from '../../../src/catalog/form.js';
import {
  checkFormValues,
  formPlaceholderValues,
  resolveUnderHome,
} from '../../../src/catalog/form-values.js';
import { HubappsError } from '../../../src/errors.js';

const FORM = formSchema.parse({
  version: {
    type: 'select',
    label: 'R version',
    options: [{ value: '4.3' }, { value: '4.4', label: 'R 4.4 (beta)', groups: ['beta'] }],
  },
  threads: { type: 'number', label: 'Threads', min: 1, max: 8 },
  ratio: { type: 'number', label: 'Ratio', min: 0, max: 1, step: 0.25, default: 0.5 },
  tag: { type: 'text', label: 'Tag', pattern: '[a-z0-9-]*', max_length: 12 },
  debug: { type: 'checkbox', label: 'Debug', true_value: 'debug', false_value: 'info' },
  workdir: { type: 'path', label: 'Working directory', kind: 'directory' },
});
const APP = { name: 'rstudio', form: FORM };
const ALICE = { groups: ['alice', 'staff'], home: '/home/alice' };
const BETA = { groups: ['alice', 'beta'], home: '/home/alice' };

/** The HubappsError a check throws, with its code; fails when it throws nothing. */
function refusal(input: Record<string, unknown>, user = ALICE): HubappsError {
  try {
    checkFormValues(APP, input, user);
  } catch (err) {
    assert.ok(err instanceof HubappsError, String(err));
    return err;
  }
  assert.fail(`expected ${JSON.stringify(input)} to be refused`);
}

describe('checking launch form values (service and proxy share this check)', () => {
  it('fills every field a user leaves out with its default', () => {
    assert.deepEqual(checkFormValues(APP, {}, ALICE), {
      version: '4.3',
      threads: 1,
      ratio: 0.5,
      tag: '',
      debug: false,
      workdir: '',
    });
  });

  it('takes the values a user may choose, for every field type', () => {
    const input = {
      version: '4.4',
      threads: 8,
      ratio: 0.75,
      tag: 'run-7',
      debug: true,
      workdir: 'projects/x',
    };
    assert.deepEqual(checkFormValues(APP, input, BETA), input);
  });

  it('refuses a field the form does not declare, listing the fields', () => {
    const err = refusal({ command: '/bin/sh' });
    assert.equal(err.code, 'unknown_form_field');
    assert.match(err.message, /no form field 'command'; its fields are version, threads/);
  });

  it('refuses a select value that is not an option, and an option of a group the user is not in', () => {
    assert.match(
      refusal({ version: '5.0' }).message,
      /'version' \(R version\).*'5\.0' is not a value you may choose; choose one of: 4\.3$/,
    );
    assert.equal(refusal({ version: '4.4' }).code, 'invalid_form_value');
    assert.equal(refusal({ version: 4.3 }).code, 'invalid_form_value');
  });

  it('refuses numbers outside min..max, off the step, not finite, or sent as text', () => {
    assert.match(refusal({ threads: 9 }).message, /9 is outside the allowed range 1 to 8/);
    assert.match(refusal({ threads: 0 }).message, /outside the allowed range/);
    assert.match(refusal({ threads: 2.5 }).message, /not 1 plus a multiple of 1/);
    assert.match(refusal({ ratio: 0.3 }).message, /not 0 plus a multiple of 0\.25/);
    assert.match(refusal({ threads: '4' }).message, /must be a number/);
    assert.match(refusal({ threads: null }).message, /must be a number/);
  });

  it("raises a number's maximum for members of the groups max_by_group names, and only for them", () => {
    const form = formSchema.parse({
      gpus: { type: 'number', label: 'GPUs', min: 0, max: 1, max_by_group: { beta: 4, staff: 2 } },
    });
    const big = { name: 'train', form };
    assert.deepEqual(checkFormValues(big, { gpus: 4 }, BETA), { gpus: 4 });
    assert.deepEqual(checkFormValues(big, { gpus: 2 }, ALICE), { gpus: 2 });
    assert.throws(
      () => checkFormValues(big, { gpus: 3 }, ALICE),
      /'gpus' \(GPUs\).*3 is outside the allowed range 0 to 2/,
    );
    assert.throws(
      () => checkFormValues(big, { gpus: 2 }, { groups: ['alice'], home: '/home/alice' }),
      /outside the allowed range 0 to 1/,
    );
  });

  it('anchors the text pattern and refuses text past max_length or with control characters', () => {
    assert.match(refusal({ tag: 'ok --rm' }).message, /does not match the pattern \[a-z0-9-\]\*/);
    assert.match(refusal({ tag: 'abc;rm -rf ~' }).message, /does not match the pattern/);
    assert.match(refusal({ tag: 'a'.repeat(13) }).message, /longer than 12 characters/);
    assert.match(refusal({ tag: 'ok\nnext' }).message, /control characters/);
    assert.match(refusal({ tag: ['a'] }).message, /must be text/);
  });

  it('takes only true or false for a checkbox', () => {
    assert.match(refusal({ debug: 'true' }).message, /must be true or false/);
    assert.match(refusal({ debug: 1 }).message, /must be true or false/);
  });

  it('refuses paths that leave the home directory, contain .., NUL or newlines, or are too long', () => {
    for (const bad of [
      '/etc',
      '/home/alice2',
      '/home',
      '../bob',
      'x/../../bob',
      '/home/alice/../bob',
      'a/..',
    ]) {
      const err = refusal({ workdir: bad });
      assert.equal(err.code, 'invalid_form_value', bad);
      assert.match(err.message, /form field 'workdir' \(Working directory\)/);
    }
    assert.match(refusal({ workdir: 'a\u0000b' }).message, /control characters/);
    assert.match(refusal({ workdir: 'a\nb' }).message, /control characters/);
    assert.match(refusal({ workdir: 'a'.repeat(1001) }).message, /longer than 1000/);
  });

  it('takes a path relative to the home directory or absolute inside it', () => {
    assert.equal(resolveUnderHome('', '/home/alice'), '/home/alice');
    assert.equal(resolveUnderHome('./data//x/', '/home/alice'), '/home/alice/data/x');
    assert.equal(resolveUnderHome('/home/alice/data', '/home/alice/'), '/home/alice/data');
    assert.equal(resolveUnderHome('/home/alicex', '/home/alice'), null);
  });

  it('gives each placeholder one string: the checkbox its declared words, a path its absolute form', () => {
    const values = checkFormValues(APP, { debug: true, workdir: 'w' }, ALICE);
    assert.deepEqual(formPlaceholderValues(FORM, values, '/home/alice'), {
      version: '4.3',
      threads: '1',
      ratio: '0.5',
      tag: '',
      debug: 'debug',
      workdir: '/home/alice/w',
    });
    const off = checkFormValues(APP, {}, ALICE);
    assert.equal(formPlaceholderValues(FORM, off, '/home/alice').debug, 'info');
  });
});

describe('the launch form schema', () => {
  const issue = (form: unknown) => {
    const r = formSchema.safeParse(form);
    assert.ok(!r.success, 'expected the form to be refused');
    return r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
  };

  it('refuses unknown field types', () => {
    assert.match(issue({ x: { type: 'radio', label: 'x' } }), /^x/);
  });

  it('refuses defaults that contradict their own field', () => {
    assert.match(
      issue({ n: { type: 'number', label: 'N', min: 1, max: 4, default: 5 } }),
      /n\.default: default 5 is outside 1\.\.4/,
    );
    assert.match(
      issue({ n: { type: 'number', label: 'N', min: 5, max: 4 } }),
      /max 4 is below min 5/,
    );
    assert.match(
      issue({ s: { type: 'select', label: 'S', options: [{ value: 'a' }], default: 'b' } }),
      /default 'b' is not one of the options/,
    );
    assert.match(
      issue({ s: { type: 'select', label: 'S', options: [{ value: 'a' }, { value: 'a' }] } }),
      /same value/,
    );
    assert.match(
      issue({ t: { type: 'text', label: 'T', pattern: '[a-z]+' } }),
      /default '' does not match pattern/,
    );
    assert.match(
      issue({ t: { type: 'text', label: 'T', pattern: '([a-z]' } }),
      /not a valid regular expression/,
    );
  });
});
