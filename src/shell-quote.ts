/** One word for a POSIX shell: bare when it holds only safe characters, else single-quoted. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_/.=:,+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
