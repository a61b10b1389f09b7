/**
 * Using an admin-minted login link as a browser does: the link opens a page with a
 * button, which posts the code back to the same address.
 */
export function useLoginLink(
  origin: string,
  link: string,
  headers: Record<string, string> = {},
): Promise<Response> {
  const url = new URL(link);
  return fetch(`${origin}${url.pathname}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams({ code: url.searchParams.get('code') ?? '' }).toString(),
  });
}
