import assert from 'node:assert/strict';
import { formSchema } from '../../../src/catalog/form.js';
import type { CatalogApp } from '../../../src/catalog/types.js';
import { parseStartBody } from '../../../src/api/body.js';
import { presentForm, rememberedValues } from '../../../src/api/present-form.js';
import type { Account } from '../../../src/users/account.js';
import { HubappsError } from '../../../src/errors.js';

const app = {
  name: 'lab',
  form: formSchema.parse({
    env: {
      type: 'select',
      label: 'Environment',
      options: [{ value: 'base' }, { value: 'torch', label: 'PyTorch', groups: ['gpu'] }],
    },
    threads: { type: 'number', label: 'Threads', min: 1, max: 4, max_by_group: { gpu: 16 } },
  }),
} as unknown as CatalogApp;
const account = (groups: string[]): Account => ({
  name: 'alice',
  uid: 1000,
  gid: 1000,
  home: '/home/alice',
  shell: '/bin/bash',
  groups,
});

describe('the launch form as GET api/apps shows it', () => {
  it("lists a select's options only to members of their groups, and a number's maximum for the user's groups", () => {
    const values = (groups: string[]) =>
      presentForm(app, account(groups))[0]?.options as { value: string }[];
    assert.deepEqual(
      values(['alice']).map((o) => o.value),
      ['base'],
    );
    assert.deepEqual(
      values(['alice', 'gpu']).map((o) => o.value),
      ['base', 'torch'],
    );
    assert.deepEqual(presentForm(app, account([]))[1], {
      type: 'number',
      name: 'threads',
      label: 'Threads',
      help: '',
      min: 1,
      max: 4,
      step: 1,
      default: 1,
    });
    assert.equal(presentForm(app, account(['gpu']))[1]?.max, 16);
  });

  it('offers again only the remembered values that are still allowed for this user', () => {
    const last = { env: 'torch', threads: 3, gone: 'x' };
    assert.deepEqual(rememberedValues(app, account(['gpu']), last), { env: 'torch', threads: 3 });
    assert.deepEqual(rememberedValues(app, account([]), last), { threads: 3 });
    assert.deepEqual(rememberedValues(app, account([]), { threads: 9 }), {});
    assert.deepEqual(rememberedValues(app, account(['gpu']), { threads: 9 }), { threads: 9 });
    assert.deepEqual(rememberedValues(app, undefined, last), {});
  });
});

describe('the start body', () => {
  it('takes form values as an object beside app and options', () => {
    assert.deepEqual(parseStartBody({ app: 'lab', form: { threads: 2 } }), {
      app: 'lab',
      options: {},
      form: { threads: 2 },
    });
    assert.deepEqual(parseStartBody({ app: 'lab' }).form, {});
  });

  it('refuses a form that is not an object', () => {
    for (const form of [[], 'x', null, 3])
      assert.throws(
        () => parseStartBody({ app: 'lab', form }),
        (err: unknown) =>
          err instanceof HubappsError && err.code === 'invalid_body' && /"form"/.test(err.message),
      );
  });
});
