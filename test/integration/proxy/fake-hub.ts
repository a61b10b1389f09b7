/**
 * A small real HTTP server that answers the three JupyterHub 3.0 endpoints a hub server's
 * proxy meets, the way Debian's JupyterHub does (apihandlers/auth.py, oauth/provider.py,
 * apihandlers/users.py):
 * - GET /hub/api/oauth2/authorize?client_id&redirect_uri&response_type=code&state: the
 *   browser's hub login is the cookie `fakehub-user=NAME`; an unknown client or a
 *   redirect_uri other than the registered one is a 400 page; a user without access to
 *   the client's server gets 403 (unless the test lets the hub issue the code anyway);
 *   otherwise 302 to redirect_uri?code=C&state=S. Codes are one-time and bound to their client.
 * - POST /hub/api/oauth2/token (form): client_id + client_secret must match (401
 *   invalid_client), the code must be the client's and the redirect_uri the registered one
 *   (400 invalid_grant); answers {access_token, token_type, expires_in, scope}.
 * - GET /hub/api/user with `Authorization: token|bearer T`: 403 for an unknown token,
 *   else the user model whose `scopes` are the token's scopes the user still holds.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface HubClientReg {
  clientId: string;
  secret: string;
  redirectUri: string;
  /** The server the client belongs to, "alice/echo". */
  server: string;
}

interface Token {
  user: string;
  scopes: string[];
}

export interface FakeHub {
  /** The API URL the proxy is given, http://127.0.0.1:PORT/hub/api/ */
  apiUrl: string;
  port: number;
  /** Every request the hub received: method, path (query included) and the form body of token calls. */
  calls: { method: string; url: string; form: Record<string, string> | null }[];
  register(client: HubClientReg): void;
  /** The scopes a user holds now (identify scopes are added by the hub). */
  setUser(name: string, scopes: string[]): void;
  /** A token of `user` carrying `scopes`, as POST /hub/api/users/NAME/tokens makes. */
  token(user: string, scopes: string[]): string;
  revoke(token: string): void;
  /** The access tokens the OAuth flow issued, newest last. */
  issued: string[];
  /** Let authorize issue codes to users without access (a role removed between authorize and token). */
  lenientAuthorize: boolean;
  /** Stop answering (connection refused) / answer again on the same port. */
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

export const accessScopesFor = (server: string): string[] => {
  const [user] = server.split('/');
  return [`access:servers!server=${server}`, `access:servers!user=${user}`];
};

export async function startFakeHub(): Promise<FakeHub> {
  const clients = new Map<string, HubClientReg>();
  const users = new Map<string, Set<string>>();
  const tokens = new Map<string, Token>();
  const codes = new Map<string, { clientId: string; user: string; redirectUri: string }>();
  const sockets = new Set<Socket>();
  let server: Server;
  let port = 0;

  const hub: FakeHub = {
    apiUrl: '',
    port: 0,
    calls: [],
    issued: [],
    lenientAuthorize: false,
    register: (c) => void clients.set(c.clientId, c),
    setUser: (name, scopes) => void users.set(name, new Set(scopes)),
    token(user, scopes) {
      const t = randomBytes(16).toString('hex');
      tokens.set(t, { user, scopes });
      return t;
    },
    revoke: (t) => void tokens.delete(t),
    down: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    up: () => (server.listening ? Promise.resolve() : listen(port)),
    close: () => hub.down(),
  };

  const identify = (user: string) => [
    `read:users:name!user=${user}`,
    `read:users:groups!user=${user}`,
  ];
  const mayAccess = (user: string, target: string): boolean => {
    const held = users.get(user) ?? new Set();
    return ['access:servers', ...accessScopesFor(target)].some((s) => held.has(s));
  };

  const authorize = (req: IncomingMessage, res: ServerResponse, q: URLSearchParams) => {
    const client = clients.get(q.get('client_id') ?? '');
    if (
      !client ||
      q.get('redirect_uri') !== client.redirectUri ||
      q.get('response_type') !== 'code'
    )
      return page(res, 400, 'Invalid client_id or redirect_uri');
    const user = /(?:^|;\s*)fakehub-user=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
    if (user === undefined) return redirect(res, `/hub/login?next=${encodeURIComponent(req.url!)}`);
    if (!mayAccess(user, client.server) && !hub.lenientAuthorize)
      return page(
        res,
        403,
        `You do not have permission to access Server at /user/${client.server}/`,
      );
    const code = randomBytes(16).toString('base64url');
    codes.set(code, { clientId: client.clientId, user, redirectUri: client.redirectUri });
    const back = new URLSearchParams({ code, state: q.get('state') ?? '' });
    redirect(res, `${client.redirectUri}?${back}`);
  };

  const token = (res: ServerResponse, form: Record<string, string>) => {
    const client = clients.get(form.client_id ?? '');
    if (!client || form.client_secret !== client.secret)
      return json(res, 401, { error: 'invalid_client' });
    const code = codes.get(form.code ?? '');
    if (form.grant_type !== 'authorization_code' || !code || code.clientId !== client.clientId)
      return json(res, 400, { error: 'invalid_grant' });
    if (form.redirect_uri !== code.redirectUri) return json(res, 400, { error: 'invalid_grant' });
    codes.delete(form.code!);
    const scopes = [...identify(code.user), ...accessScopesFor(client.server)];
    const access = randomBytes(16).toString('hex');
    tokens.set(access, { user: code.user, scopes });
    hub.issued.push(access);
    json(res, 200, {
      access_token: access,
      token_type: 'Bearer',
      expires_in: 3600,
      scope: scopes.join(' '),
    });
  };

  const user = (req: IncomingMessage, res: ServerResponse) => {
    const t = /^(?:token|bearer)\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const held = t === undefined ? undefined : tokens.get(t);
    if (!held) return json(res, 403, { status: 403, message: 'Forbidden' });
    const now = new Set([...(users.get(held.user) ?? []), ...identify(held.user)]);
    json(res, 200, {
      kind: 'user',
      name: held.user,
      admin: false,
      groups: [],
      server: null,
      scopes: held.scopes.filter((s) => now.has(s)).sort(),
      session_id: null,
    });
  };

  const handle = (req: IncomingMessage, res: ServerResponse, body: string) => {
    const url = new URL(req.url ?? '/', 'http://hub');
    const form =
      req.method === 'POST' ? Object.fromEntries(new URLSearchParams(body).entries()) : null;
    hub.calls.push({ method: req.method ?? '', url: req.url ?? '', form });
    if (req.method === 'GET' && url.pathname === '/hub/api/oauth2/authorize')
      return authorize(req, res, url.searchParams);
    if (req.method === 'POST' && url.pathname === '/hub/api/oauth2/token') return token(res, form!);
    if (req.method === 'GET' && url.pathname === '/hub/api/user') return user(req, res);
    json(res, 404, { status: 404, message: 'Not Found' });
  };

  const listen = (at: number) =>
    new Promise<void>((resolve) => {
      server = createServer((req, res) => {
        let body = '';
        req.on('data', (c) => (body += c));
        req.on('end', () => handle(req, res, body));
      });
      server.on('connection', (s) => {
        sockets.add(s);
        s.once('close', () => sockets.delete(s));
      });
      server.listen(at, '127.0.0.1', () => {
        port = (server.address() as { port: number }).port;
        resolve();
      });
    });
  await listen(0);
  hub.port = port;
  hub.apiUrl = `http://127.0.0.1:${port}/hub/api/`;
  return hub;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function page(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'text/html' }).end(`<p>${message}</p>`);
}

function redirect(res: ServerResponse, location: string): void {
  res.writeHead(302, { location }).end();
}
