import { ConfigError } from '../errors.js';

/**
 * Several problems in one or more files, reported together: an admin who runs
 * `hubapps check-config` should see every mistake at once, not fix them one run at a time.
 * The message is one line per problem, each naming its file and key; `file` and `key` are
 * those of the first problem.
 */
export class ConfigErrorList extends ConfigError {
  readonly problems: readonly ConfigError[];

  constructor(problems: readonly ConfigError[]) {
    const first = problems[0];
    if (!first) throw new TypeError('ConfigErrorList needs at least one problem');
    super(first.file, first.key, 'several problems');
    this.problems = problems;
    this.message = problems.map((p) => p.message).join('\n');
  }
}

/** The single problems inside an error, whether it is one problem or a list of them. */
export function problemsOf(err: ConfigError): ConfigError[] {
  return err instanceof ConfigErrorList ? [...err.problems] : [err];
}

/** One error for a list of problems (flattening nested lists); undefined when there are none. */
export function combineProblems(errors: readonly ConfigError[]): ConfigError | undefined {
  const flat = errors.flatMap(problemsOf);
  if (flat.length === 0) return undefined;
  return flat.length === 1 ? flat[0] : new ConfigErrorList(flat);
}

/** Throw all problems as one error, if there are any. */
export function throwProblems(errors: readonly ConfigError[]): void {
  const err = combineProblems(errors);
  if (err) throw err;
}

/** A key path as an admin writes it: `chp.api_url`, `command[2]`, `environment.R_LIBS_USER`. */
export function formatKey(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}
