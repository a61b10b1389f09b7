/** docs/api.md's table of error codes, from src/error-codes.ts (written by `npm run docs`). */
import { ERROR_CODES, type ErrorCode } from '../src/error-codes.js';

const START = '<!-- error codes: generated from src/error-codes.ts by `npm run docs` -->';
const END = '<!-- end of error codes -->';

/** The codes an HTTP answer can carry; the rest (status below 100) only end a CLI command. */
export function apiErrorCodes(): ErrorCode[] {
  return (Object.keys(ERROR_CODES) as ErrorCode[]).filter((c) => ERROR_CODES[c][0] >= 100);
}

export function renderErrorTable(): string {
  const rows = apiErrorCodes().map(
    (c) => `| \`${c}\` | ${ERROR_CODES[c][0]} | ${ERROR_CODES[c][1].replace(/\|/g, '\\|')} |`,
  );
  return [
    START,
    '| code | usual status | meaning, and what to do |',
    '|---|---|---|',
    ...rows,
    END,
  ].join('\n');
}

/** `doc` with its generated table replaced by the current one; throws when the markers are missing. */
export function withErrorTable(doc: string): string {
  const i = doc.indexOf(START);
  const j = doc.indexOf(END);
  if (i < 0 || j < i) throw new Error(`docs/api.md has no '${START}' ... '${END}' block`);
  return doc.slice(0, i) + renderErrorTable() + doc.slice(j + END.length);
}
