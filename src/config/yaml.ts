import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import { ConfigError, errnoCode } from '../errors.js';

/**
 * Read a YAML file that must hold one mapping (or nothing: an empty file means "all
 * defaults" and reads as {}). Every failure is a ConfigError naming the file; syntax errors
 * also name the line and column.
 */
export function readYamlMapping(file: string, what = 'file'): Record<string, unknown> {
  return parseYamlMapping(readText(file, what), file);
}

export function parseYamlMapping(text: string, file: string): Record<string, unknown> {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const syntax = doc.errors[0];
  if (syntax) {
    const { line, col } = lines.linePos(syntax.pos[0]);
    throw new ConfigError(
      file,
      '',
      `YAML syntax error at line ${line}, column ${col}: ${syntax.message}`,
    );
  }
  let value: unknown;
  try {
    value = doc.toJS();
  } catch (err) {
    throw new ConfigError(file, '', `YAML error: ${(err as Error).message}`);
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(
      file,
      '',
      `must be a YAML mapping of keys to values, not ${Array.isArray(value) ? 'a list' : `a ${typeof value}`}`,
    );
  }
  return value as Record<string, unknown>;
}

function readText(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT') throw new ConfigError(file, '', `${what} not found`);
    if (code === 'EACCES')
      throw new ConfigError(file, '', `${what} is not readable by this user (permission denied)`);
    if (code === 'EISDIR')
      throw new ConfigError(file, '', `is a directory, expected a YAML ${what}`);
    throw new ConfigError(file, '', `cannot read ${what}: ${(err as Error).message}`);
  }
}
