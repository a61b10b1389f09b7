import { z } from 'zod';

/**
 * Loopback host names: browsers treat http on them as a secure context (tests, the demo),
 * so plain http is accepted there and nowhere else.
 */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase();
  return h === 'localhost' || h.endsWith('.localhost') || h === '127.0.0.1' || h === '[::1]';
}

/**
 * Why `text` is not a web origin as browsers send it in an Origin header (scheme://host[:port],
 * nothing after the host or port), or null when it is one. https only, except on loopback.
 */
export function originProblem(text: string): string | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'must be an origin like https://jupyter.example.org (scheme and host, optional port)';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    return 'must be an http(s) origin like https://jupyter.example.org';
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname))
    return 'must use https (plain http is accepted only for localhost, *.localhost and 127.0.0.1)';
  if (text.toLowerCase() !== url.origin.toLowerCase())
    return `must be an origin only, written as ${url.origin} (no path, not even "/", no query, no user name, no default port)`;
  return null;
}

/** One origin in the config, checked by originProblem and stored lower case. */
export const webOriginSchema = z
  .string()
  .superRefine((text, ctx) => {
    const problem = originProblem(text);
    if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
  })
  .transform((text) => text.toLowerCase());
