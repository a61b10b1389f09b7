import { spawnSync } from 'node:child_process';
import { HubappsError } from '../../../errors.js';
import { READER } from './python-reader.js';

/**
 * Statements of a traitlets config file, read by Python's own parser without running it
 * (python-reader.ts): assignments of literal values (strings, numbers, True/False/None,
 * lists, tuples, dicts) to dotted names, imports, and calls without arguments. Everything
 * else is kept as 'other' with its line and text, for the translator to refuse by name.
 */

export type PyValue = string | number | boolean | null | PyValue[] | { [key: string]: PyValue };

export type Statement =
  | {
      kind: 'assign';
      line: number;
      text: string;
      target: string[];
      value?: PyValue;
      problem?: string;
      joinedStrings?: boolean;
    }
  | { kind: 'import'; line: number; text: string }
  | { kind: 'call'; line: number; text: string; callee: string[] }
  | { kind: 'other'; line: number; text: string; problem?: string };

/**
 * Python would refuse the file: the message is Python's, the line where it found the fault.
 * Internal to migrate-conf, which reports it with the file's name.
 */
export class PySyntaxError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
    this.name = 'PySyntaxError';
  }
}

/** Parse a whole file; a syntax error (an unterminated string, an indented statement) throws PySyntaxError. */
export function parseConfig(src: string, python = 'python3'): Statement[] {
  const run = spawnSync(python, ['-I', '-c', READER], {
    input: src,
    encoding: 'utf8',
    timeout: 30_000,
    maxBuffer: 64 << 20,
  });
  if (run.error || run.status !== 0) {
    const why = run.error
      ? run.error.message
      : `exit ${run.status ?? run.signal}: ${run.stderr.trim().split('\n').at(-1) ?? ''}`;
    throw new HubappsError(
      'command_failed',
      `${python} could not read the config file (${why}); migrate-conf needs python3 3.8 or newer on PATH`,
      { expose: true },
    );
  }
  const answer = JSON.parse(run.stdout) as {
    statements?: Statement[];
    error?: { line: number; message: string };
  };
  if (answer.error) throw new PySyntaxError(answer.error.line, answer.error.message);
  return answer.statements!;
}
