/**
 * Checking a launch form's values: the service does it before anything runs, and the proxy
 * does it again, as the user, against the catalog it reads itself (it never trusts the
 * service). No schema library here, so the proxy can load it cheaply. A value only ever
 * fills a placeholder inside one argument: checking it decides whether it is allowed, never
 * how many arguments there are.
 */
import { isAbsolute, normalize, posix } from 'node:path';
import { HubappsError } from '../errors.js';
import type { FormField } from './form.js';

export const MAX_PATH_LENGTH = 1000;
const CONTROL = /[\u0000-\u001f\u007f]/u;

export type FormValue = string | number | boolean;
export type FormValues = Record<string, FormValue>;

interface FormApp {
  name: string;
  form: Record<string, FormField>;
}

/** Who fills the form in: their groups decide the select options they may pick; paths are under their home. */
export interface FormUser {
  groups: readonly string[];
  home: string;
}

/** Every field's value, the user's where given, else the field's default; throws naming the first bad field. */
export function checkFormValues(
  app: FormApp,
  input: Record<string, unknown>,
  user: FormUser,
): FormValues {
  const unknown = Object.keys(input).find((k) => !Object.hasOwn(app.form, k));
  if (unknown !== undefined) {
    const known = Object.keys(app.form);
    throw new HubappsError(
      'unknown_form_field',
      `app '${app.name}' has no form field '${unknown.slice(0, 40)}'${known.length ? `; its fields are ${known.join(', ')}` : ''}`,
    );
  }
  const out: FormValues = {};
  for (const [name, field] of Object.entries(app.form)) {
    const value = Object.hasOwn(input, name) ? input[name] : defaultValue(field, user.groups);
    const problem = checkValue(field, value, user);
    if (problem)
      throw new HubappsError(
        'invalid_form_value',
        `form field '${name}' (${field.label}) of app '${app.name}': ${problem}`,
      );
    out[name] = value as FormValue;
  }
  return out;
}

/** The value a field starts with for a user in `groups`. */
export function defaultValue(field: FormField, groups: readonly string[]): FormValue {
  switch (field.type) {
    case 'select':
      return field.default ?? pickable(field, groups)[0]?.value ?? '';
    case 'number':
      return field.default ?? field.min;
    default:
      return field.default;
  }
}

/** The options of a select a user in `groups` may pick. */
export function pickable(
  field: Extract<FormField, { type: 'select' }>,
  groups: readonly string[],
): Extract<FormField, { type: 'select' }>['options'] {
  return field.options.filter(
    (o) => o.groups.length === 0 || o.groups.some((g) => groups.includes(g)),
  );
}

/** The largest number a user in `groups` may choose: `max`, or more through `max_by_group`. */
export function numberMax(
  field: Extract<FormField, { type: 'number' }>,
  groups: readonly string[],
): number {
  return Object.entries(field.max_by_group).reduce(
    (max, [group, m]) => (groups.includes(group) ? Math.max(max, m) : max),
    field.max,
  );
}

/** What is wrong with one value, or null. */
function checkValue(field: FormField, value: unknown, user: FormUser): string | null {
  switch (field.type) {
    case 'select': {
      if (typeof value !== 'string') return 'must be one of the listed values (a string)';
      const allowed = pickable(field, user.groups).map((o) => o.value);
      return allowed.includes(value)
        ? null
        : `'${printable(value)}' is not a value you may choose; choose one of: ${allowed.join(', ') || '(none for your groups)'}`;
    }
    case 'number': {
      if (typeof value !== 'number' || !Number.isFinite(value)) return 'must be a number';
      const max = numberMax(field, user.groups);
      if (value < field.min || value > max)
        return `${value} is outside the allowed range ${field.min} to ${max}`;
      const steps = (value - field.min) / field.step;
      return Math.abs(steps - Math.round(steps)) < 1e-9
        ? null
        : `${value} is not ${field.min} plus a multiple of ${field.step}`;
    }
    case 'text': {
      if (typeof value !== 'string') return 'must be text';
      if (value.length > field.max_length) return `is longer than ${field.max_length} characters`;
      if (CONTROL.test(value)) return 'must not contain control characters (newlines, tabs, NUL)';
      return new RegExp(`^(?:${field.pattern})$`, 'u').test(value)
        ? null
        : `'${printable(value)}' does not match the pattern ${field.pattern}`;
    }
    case 'checkbox':
      return typeof value === 'boolean' ? null : 'must be true or false';
    case 'path':
      return typeof value === 'string'
        ? pathProblem(value, user.home)
        : 'must be a path (a string)';
  }
}

/** A path's shape: under the home directory, no '..', nothing a file name cannot hold. Whether it exists is the proxy's check. */
function pathProblem(value: string, home: string): string | null {
  if (value.length > MAX_PATH_LENGTH) return `is longer than ${MAX_PATH_LENGTH} characters`;
  if (CONTROL.test(value)) return 'must not contain control characters (newlines, tabs, NUL)';
  if (value.split('/').includes('..')) return `'${printable(value)}' must not contain '..'`;
  const full = resolveUnderHome(value, home);
  return full === null ? `'${printable(value)}' is not under your home directory ${home}` : null;
}

/** The absolute, normalised path of a path value, or null when it leaves the home directory. */
export function resolveUnderHome(value: string, home: string): string | null {
  const full = normalize(isAbsolute(value) ? value : posix.join(home, value)).replace(
    /(.)\/$/,
    '$1',
  );
  const base = normalize(home).replace(/(.)\/$/, '$1');
  return full === base || full.startsWith(`${base}/`) ? full : null;
}

/** The strings that fill {form.NAME}: a checkbox gives its true_value or false_value, a path its absolute form. */
export function formPlaceholderValues(
  form: Record<string, FormField>,
  values: FormValues,
  home: string,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(form).map(([name, field]) => {
      const v = values[name];
      if (field.type === 'checkbox')
        return [name, v === true ? field.true_value : field.false_value];
      if (field.type === 'path') return [name, resolveUnderHome(String(v), home) ?? home];
      return [name, String(v)];
    }),
  );
}

function printable(s: string): string {
  const cut = s.length > 60 ? `${s.slice(0, 60)}…` : s;
  return cut.replace(/[^\x20-\x7e]/g, '?');
}
