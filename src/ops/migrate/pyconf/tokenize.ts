/**
 * A tokenizer for the small part of Python that traitlets config files use: names,
 * numbers, string literals (every quoting style and escape), brackets and operators,
 * comments, and line continuations (backslash, or an open bracket). It never evaluates
 * anything; the parser decides what it can translate.
 */

export type TokenType = 'name' | 'number' | 'string' | 'op' | 'newline' | 'eof';

export interface Token {
  type: TokenType;
  /** The name, the operator, or the string's decoded value. */
  value: string;
  /** Numeric value of a 'number' token. */
  number?: number;
  /** String prefix letters, lower-cased ('' for a plain string; 'f', 'b', 'r', 'rb', ...). */
  prefix?: string;
  line: number;
  /** The first token of a logical line that is indented (Python refuses that at the top level). */
  indented?: boolean;
}

export class PySyntaxError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

const OPERATORS = ['**=', '//=', '>>=', '<<=', '->', ':=', '==', '!=', '<=', '>=', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '**', '//', '<<', '>>'];
const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /[A-Za-z0-9_]/;
const NUMBER = /^(?:0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][+-]?\d+)?)/;
const STRING_PREFIX = /^(?:[rRuUbBfF]|[rR][bBfF]|[bBfF][rR])?(?='|")/;

export function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let depth = 0;
  let atLineStart = true;
  let indented = false;
  const push = (t: Omit<Token, 'line'>, at: number) => {
    tokens.push({ ...t, line: at, ...(atLineStart && indented ? { indented: true } : {}) });
    atLineStart = false;
  };
  while (i < src.length) {
    const c = src[i]!;
    if (c === '\n') {
      if (depth === 0 && !atLineStart) tokens.push({ type: 'newline', value: '\n', line });
      if (depth === 0) atLineStart = true;
      indented = false;
      line++;
      i++;
    } else if (c === ' ' || c === '\t' || c === '\r' || c === '\f') {
      if (atLineStart) indented = true;
      i++;
    } else if (c === '#') {
      while (i < src.length && src[i] !== '\n') i++;
    } else if (c === '\\' && (src[i + 1] === '\n' || (src[i + 1] === '\r' && src[i + 2] === '\n'))) {
      i += src[i + 1] === '\n' ? 2 : 3;
      line++;
    } else if (STRING_PREFIX.test(src.slice(i, i + 3))) {
      const prefix = STRING_PREFIX.exec(src.slice(i, i + 3))![0];
      const start = line;
      const s = readString(src, i + prefix.length, prefix.toLowerCase(), line);
      push({ type: 'string', value: s.value, prefix: prefix.toLowerCase().replace('u', '') }, start);
      line = s.line;
      i = s.end;
    } else if (NUMBER.test(src.slice(i)) && !(c === '.' && !/\d/.test(src[i + 1] ?? ''))) {
      const text = NUMBER.exec(src.slice(i))![0];
      push({ type: 'number', value: text, number: parseNumber(text) }, line);
      i += text.length;
    } else if (NAME_START.test(c)) {
      let end = i + 1;
      while (end < src.length && NAME_CHAR.test(src[end]!)) end++;
      push({ type: 'name', value: src.slice(i, end) }, line);
      i = end;
    } else {
      const op = OPERATORS.find((o) => src.startsWith(o, i)) ?? c;
      if ('([{'.includes(op)) depth++;
      if (')]}'.includes(op)) depth = Math.max(0, depth - 1);
      push({ type: 'op', value: op }, line);
      i += op.length;
    }
  }
  if (!atLineStart) tokens.push({ type: 'newline', value: '\n', line });
  tokens.push({ type: 'eof', value: '', line });
  return tokens;
}

function parseNumber(text: string): number {
  const clean = text.replace(/_/g, '');
  if (/^0[xob]/i.test(clean)) return Number(clean.toLowerCase());
  return Number(clean);
}

interface StringRead {
  value: string;
  end: number;
  line: number;
}

function readString(src: string, i: number, prefix: string, line: number): StringRead {
  const quote = src[i]!;
  const triple = src.startsWith(quote.repeat(3), i);
  const close = triple ? quote.repeat(3) : quote;
  const raw = prefix.includes('r');
  const startLine = line;
  let value = '';
  let j = i + close.length;
  for (;;) {
    if (j >= src.length) throw new PySyntaxError(startLine, 'unterminated string literal');
    if (src.startsWith(close, j)) return { value, end: j + close.length, line };
    const c = src[j]!;
    if (c === '\n') {
      if (!triple) throw new PySyntaxError(startLine, 'unterminated string literal (the line ends inside it)');
      line++;
    }
    if (c === '\\' && j + 1 < src.length) {
      if (src[j + 1] === '\n') line++;
      if (raw) {
        value += src.slice(j, j + 2);
        j += 2;
        continue;
      }
      const esc = readEscape(src, j, line);
      value += esc.text;
      j = esc.end;
      continue;
    }
    value += c;
    j++;
  }
}

const SIMPLE_ESCAPES: Record<string, string> = { '\\': '\\', "'": "'", '"': '"', n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', f: '\f', v: '\v', '\n': '' };

function readEscape(src: string, j: number, line: number): { text: string; end: number } {
  const c = src[j + 1]!;
  if (c in SIMPLE_ESCAPES) return { text: SIMPLE_ESCAPES[c]!, end: j + 2 };
  const octal = /^[0-7]{1,3}/.exec(src.slice(j + 1, j + 4));
  if (octal) return { text: String.fromCodePoint(parseInt(octal[0], 8)), end: j + 1 + octal[0].length };
  const width = c === 'x' ? 2 : c === 'u' ? 4 : c === 'U' ? 8 : 0;
  if (width > 0) {
    const hex = src.slice(j + 2, j + 2 + width);
    if (!new RegExp(`^[0-9a-fA-F]{${width}}$`).test(hex)) throw new PySyntaxError(line, `bad \\${c} escape in a string`);
    return { text: String.fromCodePoint(parseInt(hex, 16)), end: j + 2 + width };
  }
  if (c === 'N') throw new PySyntaxError(line, 'named \\N{...} escapes are not supported: write the character itself');
  // Python keeps unknown escapes as they are (with a warning).
  return { text: `\\${c}`, end: j + 2 };
}
