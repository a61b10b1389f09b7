import type { z } from 'zod';
import { ConfigError } from '../errors.js';
import { formatKey } from './error-list.js';

/** The parts of a zod 4 schema definition needed to list the keys an object accepts. */
interface WalkDef {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  in?: z.ZodType;
}

/**
 * Turn zod's issues into ConfigErrors that name the file and the dotted key, with the
 * wording an admin needs: "unknown key 'apiurl' (did you mean 'api_url'?)", "required key
 * is missing".
 */
export function issuesToErrors(
  schema: z.ZodType,
  input: unknown,
  issues: readonly z.core.$ZodIssue[],
  file: string,
): ConfigError[] {
  return issues.flatMap((issue) => issueToErrors(schema, input, issue, file));
}

function issueToErrors(
  schema: z.ZodType,
  input: unknown,
  issue: z.core.$ZodIssue,
  file: string,
): ConfigError[] {
  const key = formatKey(issue.path);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = knownKeys(schema, issue.path);
      return issue.keys.map(
        (k) => new ConfigError(file, key, `unknown key '${k}'${hint(k, known)}`),
      );
    }
    case 'invalid_key':
      return [
        new ConfigError(
          file,
          key,
          `invalid key name: ${issue.issues.map((i) => i.message).join('; ')}`,
        ),
      ];
    case 'invalid_type':
      if (valueAt(input, issue.path) === undefined) {
        return [new ConfigError(file, key, `required key is missing (expected ${issue.expected})`)];
      }
      return [new ConfigError(file, key, issue.message)];
    default:
      return [new ConfigError(file, key, issue.message)];
  }
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = input;
  for (const part of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[part];
  }
  return cur;
}

/** The keys the (possibly nested) object schema at `path` accepts. */
function knownKeys(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let cur: z.ZodType | undefined = unwrap(schema);
  for (const part of path) {
    const shape: Record<string, z.ZodType> | undefined = cur ? defOf(cur).shape : undefined;
    cur = shape && typeof part === 'string' ? shape[part] : undefined;
    cur = cur && unwrap(cur);
  }
  const shape = cur ? defOf(cur).shape : undefined;
  return shape ? Object.keys(shape) : [];
}

function unwrap(schema: z.ZodType): z.ZodType {
  let cur = schema;
  for (;;) {
    const def = defOf(cur);
    const next = def.innerType ?? def.in;
    if (!next) return cur;
    cur = next;
  }
}

function defOf(schema: z.ZodType): WalkDef {
  return schema._zod.def as unknown as WalkDef;
}

/** " (did you mean 'x'?)" when a known key is a likely typo of `key`. */
function hint(key: string, known: readonly string[]): string {
  const near = nearestKey(key, known);
  return near === undefined ? '' : ` (did you mean '${near}'?)`;
}

function nearestKey(key: string, known: readonly string[]): string | undefined {
  const wanted = key.toLowerCase().replace(/-/g, '_');
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d = distance(wanted, candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  const limit = Math.max(2, Math.floor(wanted.length / 3));
  return bestDistance <= limit ? best : undefined;
}

/** Levenshtein distance; keys are short, so the simple two-row version is plenty. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row.push(Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + cost));
    }
    prev = row;
  }
  return prev[b.length];
}
