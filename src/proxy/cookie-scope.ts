/**
 * On its own host, a server's app may only set host-only cookies or cookies for exactly its
 * own host. A `Domain` attribute naming the apps domain (or any parent) would toss the
 * cookie onto every other user's server ("cookie tossing"), so such a Set-Cookie never
 * reaches the browser.
 */
export function staysOnHost(setCookie: string, host: string): boolean {
  const own = host.toLowerCase();
  for (const attr of setCookie.split(';').slice(1)) {
    const eq = attr.indexOf('=');
    if (eq < 0 || attr.slice(0, eq).trim().toLowerCase() !== 'domain') continue;
    const domain = attr.slice(eq + 1).trim().toLowerCase().replace(/^\./, '');
    // Browsers use the last Domain attribute; refusing on any wider one is stricter still.
    if (domain !== '' && domain !== own) return false;
  }
  return true;
}
