import type { Context } from 'koa';

/**
 * Set-Cookie written directly: whether a cookie is Secure follows the configured public
 * URL (https behind nginx), not the plain-http loopback hop that reaches the service.
 */
export function setCookie(
  ctx: Context,
  name: string,
  value: string,
  opts: { path: string; secure: boolean; maxAgeS?: number },
): void {
  const parts = [`${name}=${value}`, `Path=${opts.path}`, 'HttpOnly', 'SameSite=Lax'];
  if (opts.secure) parts.push('Secure');
  if (opts.maxAgeS !== undefined) parts.push(`Max-Age=${opts.maxAgeS}`);
  ctx.append('Set-Cookie', parts.join('; '));
}

export function clearCookie(
  ctx: Context,
  name: string,
  opts: { path: string; secure: boolean },
): void {
  setCookie(ctx, name, '', { ...opts, maxAgeS: 0 });
}
