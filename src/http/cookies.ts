/**
 * Every value a Cookie header carries under `name`. Browsers send one cookie per
 * (name, domain, path), so a name seen twice means someone else set one of them, for
 * instance a site on a sibling host tossing a cookie onto the parent domain; code that
 * trusts a cookie refuses such a request rather than guess which is its own.
 */
export function cookieValues(header: string | undefined, name: string): string[] {
  const values: string[] = [];
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) values.push(part.slice(eq + 1).trim());
  }
  return values;
}
