/**
 * A `next` target that stays on this host: an absolute path, not protocol-relative
 * (`//evil`), no backslashes (browsers read `/\evil` as `//evil`), no control characters.
 * Anything else falls back to `fallback`, so a crafted link cannot bounce a user elsewhere.
 */
export function safeNext(next: unknown, fallback: string, within?: string): string {
  if (typeof next !== 'string' || next.length > 2048) return fallback;
  if (!next.startsWith('/') || next.startsWith('//') || /[\\\u0000-\u001f\u007f]/.test(next))
    return fallback;
  let decoded: string;
  try {
    decoded = decodeURIComponent(next);
  } catch {
    return fallback;
  }
  if (decoded.startsWith('//') || decoded.includes('\\') || /(^|\/)\.\.(\/|$)/.test(decoded))
    return fallback;
  if (within && !next.startsWith(within)) return fallback;
  return next;
}
