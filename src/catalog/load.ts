import { readdirSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { ConfigError, errnoCode } from '../errors.js';
import { SERVER_NAME } from '../names.js';
import { issuesToErrors } from '../config/zod-errors.js';
import { throwProblems } from '../config/error-list.js';
import { readYamlMapping } from '../config/yaml.js';
import { checkPlaceholders, findPlaceholders } from './placeholders.js';
import { type CatalogApp, appSchema } from './types.js';

/** The apps of one catalog directory, by name. */
export interface Catalog {
  readonly dir: string;
  readonly apps: Map<string, CatalogApp>;
  get(name: string): CatalogApp | undefined;
  /** All apps, sorted by name. */
  list(): CatalogApp[];
}

export interface LenientCatalog {
  catalog: Catalog;
  /** One error per bad file (a ConfigErrorList when the file has several problems). */
  errors: ConfigError[];
}

const APP_FILE = /\.ya?ml$/;

/** Load every app file in `dir`; throws one ConfigError listing every problem of every file. */
export function loadCatalog(dir: string): Catalog {
  const { catalog, errors } = loadCatalogLenient(dir);
  throwProblems(errors);
  return catalog;
}

/**
 * Load the good apps of `dir` and report the bad files, so a running service keeps serving
 * the apps that are fine while an admin fixes the others. Only a missing or unreadable
 * directory throws.
 */
export function loadCatalogLenient(dir: string): LenientCatalog {
  const apps = new Map<string, CatalogApp>();
  const errors: ConfigError[] = [];
  for (const entry of appFiles(dir)) {
    const file = join(dir, entry);
    const name = basename(entry, extname(entry));
    try {
      if (apps.has(name)) {
        throw new ConfigError(
          file,
          '',
          `app '${name}' is defined twice (${apps.get(name)?.file} and this file): remove one`,
        );
      }
      apps.set(name, loadAppFile(dir, file, name));
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      errors.push(err);
    }
  }
  return { catalog: makeCatalog(dir, apps), errors };
}

export function makeCatalog(dir: string, apps: Map<string, CatalogApp>): Catalog {
  const sorted = [...apps.values()].sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  );
  return { dir, apps, get: (name) => apps.get(name), list: () => [...sorted] };
}

/** App file names in `dir`, sorted; hidden files (editor locks and backups) are skipped. */
function appFiles(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT')
      throw new ConfigError(dir, '', 'catalog directory not found (catalog_dir)');
    if (code === 'ENOTDIR') throw new ConfigError(dir, '', 'catalog_dir is not a directory');
    if (code === 'EACCES')
      throw new ConfigError(dir, '', 'catalog directory is not readable by this user');
    throw new ConfigError(dir, '', `cannot read catalog directory: ${(err as Error).message}`);
  }
  return entries.filter((e) => APP_FILE.test(e) && !e.startsWith('.')).sort();
}

/** One app file, checked completely: throws a ConfigError listing all of its problems. */
function loadAppFile(dir: string, file: string, name: string): CatalogApp {
  if (!SERVER_NAME.test(name) || name.includes('..')) {
    throw new ConfigError(
      file,
      '',
      `app name '${name}' (the file name) is invalid: use 1-63 characters a-z 0-9 . _ -, starting with a letter or digit`,
    );
  }
  const input = readYamlMapping(file, 'app file');
  const parsed = appSchema.safeParse(input);
  // Placeholders are checked on the raw input too, so one run reports them along with schema problems.
  const problems = [
    ...(parsed.success ? [] : issuesToErrors(appSchema, input, parsed.error.issues, file)),
    ...templateProblems(input, file),
  ];
  const icon = parsed.data?.icon;
  if (icon !== undefined && !isFile(join(dir, icon))) {
    problems.push(new ConfigError(file, 'icon', `icon file ${join(dir, icon)} does not exist`));
  }
  throwProblems(problems);
  if (!parsed.success) throw new ConfigError(file, '', parsed.error.message);
  return { ...parsed.data, name, file };
}

function templateProblems(input: Record<string, unknown>, file: string): ConfigError[] {
  const { command, environment, form } = input;
  const fields =
    form !== null && typeof form === 'object' && !Array.isArray(form) ? Object.keys(form) : [];
  const problems: ConfigError[] = [];
  if (Array.isArray(command)) {
    command.forEach((arg, i) => {
      if (typeof arg === 'string')
        problems.push(...checkPlaceholders(arg, file, `command[${i}]`, fields));
    });
    if (
      typeof command[0] === 'string' &&
      findPlaceholders(command[0]).some((p) => p.startsWith('form.'))
    )
      problems.push(
        new ConfigError(
          file,
          'command[0]',
          'the program cannot come from a launch form value: name it here and pass the value in a later argument',
        ),
      );
  }
  if (environment !== null && typeof environment === 'object' && !Array.isArray(environment)) {
    for (const [k, v] of Object.entries(environment)) {
      if (typeof v === 'string')
        problems.push(...checkPlaceholders(v, file, `environment.${k}`, fields));
    }
  }
  return problems;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
