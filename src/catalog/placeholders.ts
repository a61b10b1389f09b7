import { ConfigError } from '../errors.js';
import { PLACEHOLDERS } from './types.js';

/**
 * The template syntax of app commands and environment values, shared with the proxy's
 * expansion (src/proxy/app/placeholders.ts must follow the same rules):
 *   {name}   a placeholder; name is [a-z_]+
 *   {form.field}  the value of a launch form field the app declares
 *   {{  }}   a literal '{' or '}'
 * Any other brace is an error, so a typo cannot silently reach the app as literal text.
 */
export type TemplatePart = { text: string } | { name: string };

export interface ParsedTemplate {
  parts: TemplatePart[];
  /** Syntax problems: stray braces and `{...}` whose content is not a placeholder name. */
  problems: string[];
}

const NAME = /^(?:[a-z_]+|form\.[a-z][a-z0-9_]*)$/;
const FORM_PREFIX = 'form.';
const KNOWN: ReadonlySet<string> = new Set(PLACEHOLDERS);
const ESCAPE_HINT = "write '{{' or '}}' for a literal brace";

export function parseTemplate(template: string): ParsedTemplate {
  const parts: TemplatePart[] = [];
  const problems: string[] = [];
  let text = '';
  let i = 0;
  while (i < template.length) {
    const c = template[i];
    const next = template[i + 1];
    if ((c === '{' && next === '{') || (c === '}' && next === '}')) {
      text += c;
      i += 2;
    } else if (c === '}') {
      problems.push(`unmatched '}' at character ${i + 1}: ${ESCAPE_HINT}`);
      i += 1;
    } else if (c === '{') {
      const close = template.indexOf('}', i + 1);
      const inner = close < 0 ? '' : template.slice(i + 1, close);
      if (close < 0 || inner.includes('{')) {
        problems.push(`unmatched '{' at character ${i + 1}: ${ESCAPE_HINT}`);
        i += 1;
        continue;
      }
      if (NAME.test(inner)) {
        if (text !== '') parts.push({ text });
        text = '';
        parts.push({ name: inner });
      } else {
        problems.push(
          `'{${inner}}' is not a placeholder: names are lower-case letters and '_', or form.FIELD; ${ESCAPE_HINT}`,
        );
      }
      i = close + 1;
    } else {
      text += c;
      i += 1;
    }
  }
  if (text !== '') parts.push({ text });
  return { parts, problems };
}

/** The placeholder names a template uses (known or not), each once, in order of first use. */
export function findPlaceholders(template: string): string[] {
  const names = parseTemplate(template).parts.flatMap((p) => ('name' in p ? [p.name] : []));
  return [...new Set(names)];
}

/**
 * Every problem of one template (syntax, unknown names, form fields the app does not
 * declare in `formFields`), as ConfigErrors naming `file` and `key`.
 */
export function checkPlaceholders(
  template: string,
  file: string,
  key: string,
  formFields: readonly string[] = [],
): ConfigError[] {
  const { problems } = parseTemplate(template);
  const used = findPlaceholders(template);
  const undeclared = used.filter(
    (name) => name.startsWith(FORM_PREFIX) && !formFields.includes(name.slice(FORM_PREFIX.length)),
  );
  const unknown = used.filter((name) => !name.startsWith(FORM_PREFIX) && !KNOWN.has(name));
  return [
    ...undeclared.map(
      (name) =>
        new ConfigError(
          file,
          key,
          `'{${name}}' names no field of this app's form: declare '${name.slice(FORM_PREFIX.length)}' under the key 'form' (fields: ${formFields.join(', ') || 'none'})`,
        ),
    ),
    ...unknown.map(
      (name) =>
        new ConfigError(
          file,
          key,
          `unknown placeholder '{${name}}' (known: ${PLACEHOLDERS.map((p) => `{${p}}`).join(' ')}; ${ESCAPE_HINT})`,
        ),
    ),
    ...problems.map((problem) => new ConfigError(file, key, problem)),
  ];
}

/**
 * Whether an app listens on a loopback port: it names {port}, or it names neither {port}
 * nor {unix_socket} (the proxy then gives it a port and checks that). The built-in terminal
 * listens on a socket. proxy/app/launch-plan.ts decides the same way at start.
 */
export function usesPort(app: {
  command?: string[] | undefined;
  builtin?: string | undefined;
  environment: Record<string, string>;
}): boolean {
  if (app.builtin) return false;
  const used = new Set(
    [...(app.command ?? []), ...Object.values(app.environment)].flatMap(findPlaceholders),
  );
  return used.has('port') || !used.has('unix_socket');
}
