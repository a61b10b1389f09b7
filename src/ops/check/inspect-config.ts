import { loadCatalogLenient } from '../../catalog/load.js';
import type { CatalogApp } from '../../catalog/types.js';
import { issuesToErrors } from '../../config/zod-errors.js';
import { loadConfig } from '../../config/load.js';
import { problemsOf } from '../../config/error-list.js';
import { type Config, type ParsedConfig, configSchema } from '../../config/schema.js';
import { readYamlMapping } from '../../config/yaml.js';
import { ConfigError } from '../../errors.js';

/**
 * The config and the catalog checked completely, for check-config and doctor: every
 * problem is collected instead of stopping at the first, and whatever keys are valid are
 * still returned, so the catalog (and doctor's other checks) can be looked at even when
 * some other key is wrong.
 */
export interface ConfigInspection {
  /** The config with its secrets, when everything is valid. */
  config?: Config;
  /** The valid keys plus defaults for the invalid ones (no secrets resolved); undefined when the file cannot be read. */
  settings?: ParsedConfig;
  problems: ConfigError[];
  /** Top-level keys that had problems: `settings` holds their defaults, which say nothing about the admin's intent. */
  invalidKeys: Set<string>;
}

export interface CatalogInspection {
  apps: CatalogApp[];
  problems: ConfigError[];
}

export function inspectConfig(
  file: string,
  env: NodeJS.ProcessEnv = process.env,
): ConfigInspection {
  let input: Record<string, unknown>;
  try {
    input = readYamlMapping(file, 'config file');
  } catch (err) {
    if (err instanceof ConfigError) return { problems: problemsOf(err), invalidKeys: new Set() };
    throw err;
  }
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) {
    const problems = issuesToErrors(configSchema, input, parsed.error.issues, file);
    const invalidKeys = topKeys(parsed.error.issues);
    return { settings: validPart(input, invalidKeys), problems, invalidKeys };
  }
  try {
    return {
      config: loadConfig(file, undefined, env),
      settings: parsed.data,
      problems: [],
      invalidKeys: new Set(),
    };
  } catch (err) {
    if (err instanceof ConfigError)
      return {
        settings: parsed.data,
        problems: problemsOf(err),
        invalidKeys: new Set(problemsOf(err).map((p) => p.key.split('.')[0]!)),
      };
    throw err;
  }
}

export function inspectCatalog(dir: string): CatalogInspection {
  try {
    const { catalog, errors } = loadCatalogLenient(dir);
    return { apps: catalog.list(), problems: errors.flatMap(problemsOf) };
  } catch (err) {
    if (err instanceof ConfigError) return { apps: [], problems: problemsOf(err) };
    throw err;
  }
}

interface Issue {
  path: readonly PropertyKey[];
  code: string;
  keys?: string[];
}

function topKeys(issues: readonly Issue[]): Set<string> {
  const bad = new Set<string>();
  for (const issue of issues) {
    if (issue.path.length > 0) bad.add(String(issue.path[0]));
    else if (issue.code === 'unrecognized_keys') for (const k of issue.keys ?? []) bad.add(k);
  }
  return bad;
}

/** Parse again without the top-level keys that had problems: their defaults stand in. */
function validPart(input: Record<string, unknown>, bad: Set<string>): ParsedConfig | undefined {
  const again = configSchema.safeParse(
    Object.fromEntries(Object.entries(input).filter(([k]) => !bad.has(k))),
  );
  return again.success ? again.data : undefined;
}
