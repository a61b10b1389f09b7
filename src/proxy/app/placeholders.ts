/**
 * Placeholder expansion for an app's command and environment: {port} {unix_socket}
 * {base_url} {user} {server} {home}; '{{' and '}}' stand for literal braces. The catalog
 * module reuses this to refuse unknown placeholders when it loads a file.
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

/** Replace each placeholder with its value; throws PlaceholderError on an unknown name or an unmatched brace. */
export function expandPlaceholders(template: string, values: PlaceholderValues): string {
  return template.replace(TOKEN, (match, name: string | undefined) => {
    if (match === '{{') return '{';
    if (match === '}}') return '}';
    if (name === undefined) throw new PlaceholderError(template, `unmatched '${match}'`);
    if (!KNOWN.has(name)) throw new PlaceholderError(template, `unknown placeholder {${name}}`);
    return values[name as Placeholder];
  });
}

/** The placeholders a template uses (throws like expandPlaceholders on a bad one). */
export function placeholdersIn(template: string): Placeholder[] {
  const found: Placeholder[] = [];
  const probe = Object.fromEntries(PLACEHOLDERS.map((p) => [p, ''])) as PlaceholderValues;
  expandPlaceholders(template, probe);
  for (const m of template.matchAll(TOKEN)) {
    const name = m[1] as Placeholder | undefined;
    if (name !== undefined && !found.includes(name)) found.push(name);
  }
  return found;
}
