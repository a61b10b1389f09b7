/** The checks of the start request's fields: each refusal names the field (a HubappsError 'bad_request'). */
import { HubappsError } from '../errors.js';

export const bad = (message: string) => new HubappsError('bad_request', message);

export function object(v: unknown, key: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw bad(`'${key}' must be an object`);
  return v as Record<string, unknown>;
}

export function array(v: unknown, key: string): unknown[] {
  if (!Array.isArray(v)) throw bad(`'${key}' must be an array`);
  return v;
}

export function bool(v: unknown, key: string): boolean {
  if (typeof v !== 'boolean') throw bad(`'${key}' must be true or false`);
  return v;
}

export function str(v: unknown, key: string): string {
  if (typeof v !== 'string') throw bad(`'${key}' must be a string`);
  return v;
}

export function int(v: unknown, key: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw bad(`'${key}' must be an integer between ${min} and ${max}`);
  }
  return v;
}

/** Names also end up in paths, so '..' is refused as in names.ts; the secret may contain anything printable. */
export function matching(v: unknown, key: string, re: RegExp, name = true): string {
  const s = str(v, key);
  if (!re.test(s) || (name && s.includes('..'))) throw bad(`'${key}' has an invalid value`);
  return s;
}

export function origin(v: unknown, key: string): string {
  const s = str(v, key);
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    throw bad(`'${key}' must be an origin such as https://hub.example.org`);
  }
  if (
    (url.protocol !== 'http:' && url.protocol !== 'https:') ||
    url.origin !== s.replace(/\/$/, '')
  ) {
    throw bad(
      `'${key}' must be an origin such as https://hub.example.org (scheme, host and port only)`,
    );
  }
  return url.origin;
}
