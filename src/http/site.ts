/**
 * The registrable domain ("site") of a host name, as far as it can be told without the
 * Public Suffix List: the last two labels, or three when the last is a two-letter country
 * code under a short second level (example.co.uk, example.com.au, example.ac.jp). It errs
 * towards "same site" (two domains under one unlisted suffix look alike), which is the safe
 * side for the check it serves. IP addresses and single labels are their own site.
 */
export function siteOf(host: string): string {
  const h = host.toLowerCase().replace(/\.$/, '');
  if (/^[\d.]+$/.test(h) || h.includes(':')) return h;
  const labels = h.split('.');
  if (labels.length <= 2) return h;
  const [second, last] = labels.slice(-2) as [string, string];
  const keep = last.length === 2 && second.length <= 3 ? 3 : 2;
  return labels.slice(-keep).join('.');
}

export function sameSite(a: string, b: string): boolean {
  return siteOf(a) === siteOf(b);
}
