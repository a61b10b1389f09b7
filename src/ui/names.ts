/** The API's rule for server names (src/names.ts), checked in the page too so mistakes show before a request. */
const SERVER_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/** Why `name` cannot be a server name, or null when it can. */
export function nameProblem(name: string, taken: readonly string[]): string | null {
  if (name === '') return 'Enter a name.';
  if (!SERVER_NAME.test(name) || name.includes('..')) {
    return "Use 1-63 characters: lower-case letters, digits, '.', '_' or '-', starting with a letter or digit, without '..'.";
  }
  if (taken.includes(name))
    return `You already have a server called ${name} that is running or starting.`;
  return null;
}

/** A free name to suggest for another instance of `app`: app-2, app-3, ... */
export function suggestName(app: string, taken: readonly string[]): string {
  for (let i = 2; ; i++) {
    const name = `${app.slice(0, 58)}-${i}`;
    if (!taken.includes(name)) return name;
  }
}
