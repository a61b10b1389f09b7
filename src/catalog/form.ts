import { z } from 'zod';
import { FORM_FIELD_NAME } from './constants.js';

const GROUP = z.string().min(1).max(64);
const label = z.string().min(1).max(80).describe('Shown next to the input.');
const help = z
  .string()
  .max(300)
  .default('')
  .describe('One sentence under the input: what the value does.');

const selectField = z.strictObject({
  type: z.literal('select'),
  label,
  help,
  options: z
    .array(
      z.strictObject({
        value: z
          .string()
          .max(200)
          .describe('What fills the placeholder (and what the API and preset links send).'),
        label: z.string().min(1).max(80).optional().describe('Shown in the list; default: value.'),
        groups: z
          .array(GROUP)
          .default([])
          .describe('Only members of one of these Unix groups may pick it; empty: everyone.'),
      }),
    )
    .min(1)
    .describe(
      'The choices, in the order shown, each {value, label, groups}: value fills the placeholder, label is shown (default: the value), groups lets only members of one of those Unix groups pick it (default: everyone).',
    ),
  default: z
    .string()
    .optional()
    .describe('The value chosen at first; default: the first option the user may pick.'),
});

const numberField = z.strictObject({
  type: z.literal('number'),
  label,
  help,
  min: z.number().describe('Smallest value allowed.'),
  max: z.number().describe('Largest value allowed.'),
  max_by_group: z
    .record(GROUP, z.number())
    .default({})
    .describe(
      'Larger maximums for members of these Unix groups, e.g. {gpu-users: 8}; a member of several gets the largest.',
    ),
  step: z
    .number()
    .positive()
    .default(1)
    .describe('Values are min + a multiple of step; 1 with a whole min: whole numbers.'),
  default: z.number().optional().describe('The value at first; default: min.'),
});

const textField = z.strictObject({
  type: z.literal('text'),
  label,
  help,
  pattern: z
    .string()
    .min(1)
    .max(500)
    .describe(
      'A JavaScript regular expression the whole value must match (it is anchored for you), e.g. [a-z0-9-]*.',
    ),
  max_length: z.number().int().min(1).max(1000).default(100).describe('Longest value allowed.'),
  default: z.string().default('').describe('The value at first.'),
});

const checkboxField = z.strictObject({
  type: z.literal('checkbox'),
  label,
  help,
  default: z.boolean().default(false).describe('Ticked at first?'),
  true_value: z
    .string()
    .max(200)
    .default('true')
    .describe('What fills the placeholder when ticked.'),
  false_value: z
    .string()
    .max(200)
    .default('false')
    .describe('What fills the placeholder when not ticked.'),
});

const pathField = z.strictObject({
  type: z.literal('path'),
  label,
  help,
  kind: z
    .enum(['directory', 'file'])
    .default('directory')
    .describe('What must exist there when the server starts (checked as the user).'),
  default: z
    .string()
    .max(1000)
    .default('')
    .describe('Relative to the home directory; empty: the home directory itself.'),
});

/** The field types by name, for the generated docs' one table per type. */
export const FORM_FIELD_TYPES = {
  select: selectField,
  number: numberField,
  text: textField,
  checkbox: checkboxField,
  path: pathField,
} as const;

export const formFieldSchema = z
  .discriminatedUnion('type', [selectField, numberField, textField, checkboxField, pathField])
  .check(fieldIsCoherent);

/** An app file's `form` key: the fields a user fills in before a start, by name. */
export const formSchema = z
  .record(
    z
      .string()
      .regex(
        FORM_FIELD_NAME,
        'field names are a lower-case letter, then lower-case letters, digits and _',
      ),
    formFieldSchema,
  )
  .default({})
  .describe(
    "Launch form: fields the user fills in before a start; their values fill the placeholders {form.NAME} in command and environment, each inside its own argument. Types: select, number, text, checkbox, path (their keys: 'Launch form fields' below; examples in docs/apps.md).",
  );

export type FormField = z.output<typeof formFieldSchema>;

/** Defaults that contradict their own field are admin mistakes caught at load, not at the first start. */
function fieldIsCoherent(ctx: z.core.ParsePayload<FormField>): void {
  const f = ctx.value;
  const fail = (path: string, message: string) =>
    ctx.issues.push({ code: 'custom', input: f, path: [path], message });
  if (f.type === 'number') {
    if (f.min > f.max) fail('max', `max ${f.max} is below min ${f.min}`);
    for (const [group, max] of Object.entries(f.max_by_group))
      if (max < f.max)
        fail('max_by_group', `${group}: ${max} is below max ${f.max}; it may only raise it`);
    if (f.default !== undefined && (f.default < f.min || f.default > f.max))
      fail('default', `default ${f.default} is outside ${f.min}..${f.max}`);
  } else if (f.type === 'select') {
    const values = f.options.map((o) => o.value);
    if (new Set(values).size !== values.length) fail('options', 'two options have the same value');
    if (f.default !== undefined && !values.includes(f.default))
      fail('default', `default '${f.default}' is not one of the options' values`);
  } else if (f.type === 'text') {
    let re: RegExp | undefined;
    try {
      re = new RegExp(`^(?:${f.pattern})$`, 'u');
    } catch (err) {
      fail('pattern', `not a valid regular expression: ${(err as Error).message}`);
    }
    if (re && !re.test(f.default)) fail('default', `default '${f.default}' does not match pattern`);
  }
}
