/**
 * Placeholder expansion for an app's command and environment: {port} {unix_socket}
 * {base_url} {user} {server} {home}, and {form.NAME} for the app's launch form fields;
 * '{{' and '}}' stand for literal braces. A value is inserted as it is and never read
 * again, so braces inside a value stay text.
 */
import { HubappsError } from '../../errors.js';
import { PLACEHOLDERS, type Placeholder, type PlaceholderValues } from '../../catalog/constants.js';

export type { PlaceholderValues };

/** Thrown for '{name}' with an unknown name or a lone brace; the catalog wraps it into a ConfigError naming file and key. */
export class PlaceholderError extends HubappsError {
  constructor(
    readonly template: string,
    problem: string,
  ) {
    super(
      'invalid_placeholder',
      `${problem} in '${template}': known placeholders are ${PLACEHOLDERS.map((p) => `{${p}}`).join(' ')}; write {{ and }} for literal braces`,
      { expose: false },
    );
  }
}

const KNOWN: ReadonlySet<string> = new Set(PLACEHOLDERS);
const TOKEN = /\{\{|\}\}|\{([^{}]*)\}|[{}]/g;

const FORM_PREFIX = 'form.';

/**
 * Replace each placeholder with its value (`form`: the launch form's values by field name);
 * throws PlaceholderError on an unknown name or an unmatched brace.
 */
export function expandPlaceholders(
  template: string,
  values: PlaceholderValues,
  form: Readonly<Record<string, string>> = {},
): string {
  return template.replace(TOKEN, (match, name: string | undefined) => {
    if (match === '{{') return '{';
    if (match === '}}') return '}';
    if (name === undefined) throw new PlaceholderError(template, `unmatched '${match}'`);
    if (name.startsWith(FORM_PREFIX)) {
      const field = name.slice(FORM_PREFIX.length);
      const value = Object.hasOwn(form, field) ? form[field] : undefined;
      if (value !== undefined) return value;
      throw new PlaceholderError(template, `{${name}} names no field of the app's form`);
    }
    if (!KNOWN.has(name)) throw new PlaceholderError(template, `unknown placeholder {${name}}`);
    return values[name as Placeholder];
  });
}

/** The built-in placeholders a template uses, form fields left out (throws like expandPlaceholders on a bad one). */
export function placeholdersIn(template: string): Placeholder[] {
  const found: Placeholder[] = [];
  const probe = Object.fromEntries(PLACEHOLDERS.map((p) => [p, ''])) as PlaceholderValues;
  const names = [...template.matchAll(TOKEN)].flatMap((m) => (m[1] === undefined ? [] : [m[1]]));
  const formProbe = Object.fromEntries(
    names.filter((n) => n.startsWith(FORM_PREFIX)).map((n) => [n.slice(FORM_PREFIX.length), '']),
  );
  expandPlaceholders(template, probe, formProbe);
  for (const name of names)
    if (KNOWN.has(name) && !found.includes(name as Placeholder)) found.push(name as Placeholder);
  return found;
}

/** Does a template take a launch form value? The program (argv[0]) never may. */
export function usesFormValue(template: string): boolean {
  return [...template.matchAll(TOKEN)].some((m) => m[1]?.startsWith(FORM_PREFIX));
}
