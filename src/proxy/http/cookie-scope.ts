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
    const domain = attr
      .slice(eq + 1)
      .trim()
      .toLowerCase()
      .replace(/^\./, '');
    // Browsers use the last Domain attribute; refusing on any wider one is stricter still.
    if (domain !== '' && domain !== own) return false;
  }
  return true;
}

/**
 * One Set-Cookie value with every Path attribute replaced by exactly one, `confine(path)` of
 * the last (browsers use the last Path, so rewriting only the first would leave
 * `Path=/apps/alice/lab/; Path=/` wide open). A cookie without a Path keeps its default
 * path, which is below the request's own and so already inside the server.
 */
export function withOnePath(setCookie: string, confine: (path: string) => string): string {
  const [pair, ...attrs] = setCookie.split(';');
  const isPath = (attr: string) => /^\s*path\s*(=|$)/i.test(attr);
  const last = attrs.findLastIndex(isPath);
  if (last < 0) return setCookie;
  const out = [pair];
  attrs.forEach((attr, i) => {
    if (i === last) {
      const eq = attr.indexOf('=');
      out.push(
        eq < 0
          ? ` Path=${confine('')}`
          : `${attr.slice(0, eq)}=${confine(attr.slice(eq + 1).trim())}`,
      );
    } else if (!isPath(attr)) {
      out.push(attr);
    }
  });
  return out.join(';');
}
