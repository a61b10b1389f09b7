import { stringify } from 'yaml';
import { checkPlaceholders } from '../../../catalog/placeholders.js';
import { appSchema } from '../../../catalog/types.js';
import type { AppDraft } from './traits.js';
import type { Refusal } from './translate.js';

/** The app file's data: the draft without the translator's bookkeeping, keys in the catalog's usual order. */
export function appData(draft: AppDraft): Record<string, unknown> {
  const { title, command, environment, ready, strip_prefix: stripPrefix } = draft;
  return {
    title,
    command,
    ...(environment && Object.keys(environment).length ? { environment } : {}),
    ...(ready ? { ready } : {}),
    ...(stripPrefix === false ? { strip_prefix: false } : {}),
  };
}

/** What the catalog would say about the translated app: schema problems and unknown placeholders. */
export function catalogProblems(data: Record<string, unknown>): string[] {
  const parsed = appSchema.safeParse(data);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((i) => `${i.path.join('.') || 'app'}: ${i.message}`);
  const templates: Array<[string, string]> = [
    ...((data.command as string[] | undefined) ?? []).map((t, i): [string, string] => [
      `command[${i}]`,
      t,
    ]),
    ...Object.entries((data.environment as Record<string, string> | undefined) ?? {}).map(
      ([k, v]): [string, string] => [`environment.${k}`, v],
    ),
  ];
  for (const [key, template] of templates)
    problems.push(...checkPlaceholders(template, '', key).map((e) => e.message.replace(/^: /, '')));
  return problems;
}

/** The YAML text, with a header saying where it came from and what the admin should know. */
export function appFileText(
  data: Record<string, unknown>,
  source: string,
  notes: Refusal[],
): string {
  const header = [
    `# Converted by \`hubapps migrate-conf\` from ${source}.`,
    '# Review it, then install it root-owned (0644) in the catalog directory.',
  ];
  if (notes.length > 0) {
    header.push('# Notes from the conversion:');
    for (const n of notes)
      header.push(`#   ${n.line > 0 ? `line ${n.line}: ` : ''}${n.message.replace(/\n/g, ' ')}`);
  }
  return `${header.join('\n')}\n${stringify(data)}`;
}
