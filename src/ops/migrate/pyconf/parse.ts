import { PySyntaxError, type Token, tokenize } from './tokenize.js';

/**
 * Statements of a traitlets config file, as far as they can be read without running
 * Python: assignments of literal values (strings, numbers, True/False/None, lists, tuples,
 * dicts) to dotted names, imports, and calls without arguments. Everything else is kept
 * as 'other' with its line and text, for the translator to refuse by name.
 */

export type PyValue = string | number | boolean | null | PyValue[] | { [key: string]: PyValue };

export type Statement =
  | { kind: 'assign'; line: number; text: string; target: string[]; value?: PyValue; problem?: string; joinedStrings?: boolean }
  | { kind: 'import'; line: number; text: string }
  | { kind: 'call'; line: number; text: string; callee: string[] }
  | { kind: 'other'; line: number; text: string; problem?: string };

class NotLiteral extends Error {}

/** Parse a whole file; a syntax error (an unterminated string, an indented statement) throws PySyntaxError. */
export function parseConfig(src: string): Statement[] {
  const tokens = tokenize(src);
  const lines = src.split('\n');
  const statements: Statement[] = [];
  let start = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.type === 'newline' || t.type === 'eof' || (t.type === 'op' && t.value === ';')) {
      const part = tokens.slice(start, i);
      if (part.length > 0) statements.push(statement(part, textOf(lines, part[0]!.line, (tokens[i - 1] ?? t).line)));
      start = i + 1;
    }
  }
  return statements;
}

function textOf(lines: string[], first: number, last: number): string {
  const text = lines
    .slice(first - 1, last)
    .map((l) => withoutComment(l).trim())
    .join(' ');
  return text.length > 100 ? `${text.slice(0, 100)}…` : text;
}

/** The line up to a '#' that is not inside quotes. */
function withoutComment(line: string): string {
  let quote = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#') return line.slice(0, i);
  }
  return line;
}

function statement(tokens: Token[], text: string): Statement {
  const first = tokens[0]!;
  const line = first.line;
  if (first.indented) throw new PySyntaxError(line, 'unexpected indent (Python would refuse this file too)');
  if (first.type === 'name' && (first.value === 'import' || first.value === 'from')) return { kind: 'import', line, text };
  const { names, next } = dotted(tokens, 0);
  if (names.length === 0) return { kind: 'other', line, text };
  const op = tokens[next];
  if (op?.type === 'op' && op.value === '(' && tokens[next + 1]?.value === ')' && next + 2 === tokens.length) {
    return { kind: 'call', line, text, callee: names };
  }
  if (op?.type !== 'op' || op.value !== '=') {
    const problem = op?.type === 'op' && op.value.endsWith('=') ? `'${op.value}' changes a value that only Python knows` : undefined;
    return { kind: 'other', line, text, ...(problem ? { problem } : {}) };
  }
  const reader = new ValueReader(tokens, next + 1);
  try {
    const value = reader.value();
    if (reader.pos !== tokens.length) throw new NotLiteral(`unexpected '${tokens[reader.pos]!.value}' after the value`);
    return { kind: 'assign', line, text, target: names, value, ...(reader.joined ? { joinedStrings: true } : {}) };
  } catch (err) {
    if (!(err instanceof NotLiteral)) throw err;
    return { kind: 'assign', line, text, target: names, problem: err.message };
  }
}

/** NAME(.NAME)* from position i. */
function dotted(tokens: Token[], i: number): { names: string[]; next: number } {
  const names: string[] = [];
  while (tokens[i]?.type === 'name') {
    names.push(tokens[i]!.value);
    i++;
    if (tokens[i]?.type !== 'op' || tokens[i]!.value !== '.') break;
    i++;
  }
  return { names, next: i };
}

const CLOSE: Record<string, string> = { '[': ']', '(': ')', '{': '}' };

class ValueReader {
  joined = false;

  constructor(
    private readonly tokens: Token[],
    public pos: number,
  ) {}

  value(): PyValue {
    const t = this.take();
    if (t.type === 'string') return this.strings(t);
    if (t.type === 'number') return t.number!;
    if (t.type === 'op' && t.value === '-' && this.peek()?.type === 'number') return -this.take().number!;
    if (t.type === 'name' && ['True', 'False', 'None'].includes(t.value)) {
      if (this.peek()?.value === '(' || this.peek()?.value === '.') throw new NotLiteral(`'${t.value}' is used in an expression`);
      return t.value === 'None' ? null : t.value === 'True';
    }
    if (t.type === 'op' && t.value in CLOSE) return this.container(t.value);
    if (t.type === 'name') throw new NotLiteral(`'${t.value}' is a variable or a function, not a literal value`);
    throw new NotLiteral(`'${t.value}' is not a literal value`);
  }

  private strings(first: Token): string {
    let out = this.checkString(first);
    while (this.peek()?.type === 'string') {
      out += this.checkString(this.take());
      this.joined = true;
    }
    if (this.peek()?.type === 'op' && ['+', '%', '.', '['].includes(this.peek()!.value)) {
      throw new NotLiteral(`a string is combined with '${this.peek()!.value}': only plain literals can be translated`);
    }
    return out;
  }

  private checkString(t: Token): string {
    if (t.prefix?.includes('f')) throw new NotLiteral('f-strings are computed by Python: write the text out');
    if (t.prefix?.includes('b')) throw new NotLiteral('bytes literals (b"...") are not text');
    return t.value;
  }

  private container(open: string): PyValue {
    const close = CLOSE[open]!;
    const items: PyValue[] = [];
    const dict: { [key: string]: PyValue } = {};
    let isDict = open === '{' && this.peek()?.value === '}';
    let commas = 0;
    while (this.peek()?.value !== close) {
      const item = this.value();
      if (open === '{' && this.peek()?.value === ':') {
        this.take();
        if (typeof item !== 'string') throw new NotLiteral('dict keys must be strings');
        dict[item] = this.value();
        isDict = true;
      } else if (open === '{') throw new NotLiteral('sets ({a, b}) are not supported: use a list');
      else items.push(item);
      if (this.peek()?.value === ',') {
        this.take();
        commas++;
      } else if (this.peek()?.value !== close) throw new NotLiteral(`expected ',' or '${close}', found '${this.peek()?.value ?? 'end of line'}'`);
    }
    this.take();
    if (isDict) return dict;
    // (x) is x itself; (x,) and (x, y) are tuples, which traitlets accepts where it takes lists.
    return open === '(' && items.length === 1 && commas === 0 ? items[0]! : items;
  }

  private take(): Token {
    const t = this.tokens[this.pos];
    if (!t) throw new NotLiteral('the value ends too early');
    this.pos++;
    return t;
  }

  private peek(): Token | undefined {
    return this.tokens[this.pos];
  }
}
