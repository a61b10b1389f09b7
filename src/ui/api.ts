/**
 * The page's only way to the service: JSON over fetch against {prefix}api/, with the
 * session's XSRF token on every state change. Errors carry the API's own message, which
 * is written for the person reading the page.
 */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The launcher's own prefix, e.g. /services/hubapps/ (the page is only served there). */
export const PREFIX = new URL('.', location.href).pathname;

let xsrf: string | null = null;

export function useXsrf(token: string | null): void {
  xsrf = token;
}

export function loginUrl(
  next: string = location.pathname + location.search + location.hash,
): string {
  return `${PREFIX}login?next=${encodeURIComponent(next)}`;
}

export async function api<T>(
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (method !== 'GET' && xsrf) headers['X-XSRF-Token'] = xsrf;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(`${PREFIX}api/${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(
      0,
      'The hubapps service does not answer. Check your connection and try again.',
    );
  }
  const data = (await res.json().catch(() => null)) as { message?: string } | null;
  if (res.ok) return data as T;
  if (res.status === 401) location.assign(loginUrl());
  throw new ApiError(
    res.status,
    data?.message ?? `The service answered ${res.status} ${res.statusText}.`,
  );
}

/** API path of one server; both names are validated by the API, encoded here so they stay one segment. */
export function serverPath(user: string, name: string): string {
  return `users/${encodeURIComponent(user)}/servers/${encodeURIComponent(name)}`;
}
