import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import { requestSource } from '../http/request-source.js';
import type { Context } from 'koa';
import { SESSION_COOKIE } from '../auth/authenticator.js';
import { sameSecret } from '../auth/identity.js';
import type { HubUser } from '../auth/hub-client.js';
import type { HubOAuth } from '../auth/oauth.js';
import { safeNext } from '../auth/redirects.js';
import { HubappsError } from '../errors.js';
import { ClientRateLimit } from '../limits/rate.js';
import { clientAddress } from '../http/client-address.js';
import { cookieValues } from '../http/cookies.js';
import { hashSecret, newSecret } from '../secret-hash.js';
import { clearCookie, setCookie } from './cookies.js';
import { isEmbedSignIn, keepOpener } from './embed-sign-in.js';
import type { ApiDeps } from './deps.js';
import { escapeHtml } from '../http/html.js';
import { page } from './pages.js';

const OAUTH_STATE_MAX_AGE_S = 600;

/**
 * Browser login: through JupyterHub's OAuth (when configured) or a single-use login link
 * minted by an admin. Both end in a launcher session cookie scoped to the service prefix.
 * An OAuth login must end in the browser that started it: /login leaves a cookie named
 * after the state, and the callback wants it back. Otherwise anyone could start a login,
 * get a code for their own account and hand the callback URL to a victim, whose browser
 * would then be logged in as the attacker (login CSRF).
 */
export function loginRoutes(deps: ApiDeps, oauth: HubOAuth | undefined): Router {
  const router = new Router();
  const prefix = deps.urls.servicePrefix();
  const secure = deps.urls.publicOrigin.startsWith('https:');
  const callbackPath = `${prefix}oauth_callback`;
  const origins = deps.urls.siteOrigins;
  // __Host- where the scheme allows it (https): no other host, a shared app's under the same
  // registrable domain included, can set a cookie of that name, so none can plant the state of
  // a login it started itself and hand this browser the callback (login CSRF by cookie tossing).
  const statePrefix = secure ? '__Host-' : '';
  const statePath = secure ? '/' : callbackPath;
  const stateCookie = (state: string) =>
    `${statePrefix}hubapps-oauth-${hashSecret(state).slice(0, 16)}`;
  const { limits } = deps.config;
  const logins = new ClientRateLimit(
    limits.logins_per_minute,
    limits.logins_per_minute_total,
    'logins',
    'limits.logins_per_minute',
    'limits.logins_per_minute_total',
  );
  const trusted = new Set(deps.config.trusted_proxies);

  router.get('/login', async (ctx) => {
    const next = safeNext(ctx.query.next, prefix);
    if (!oauth) {
      return page(
        ctx,
        401,
        'Log in',
        '<p>This hubapps has no JupyterHub login configured. Ask your admin for a login link.</p>',
      );
    }
    // Each login asks the hub and writes a state row, for a client nobody knows yet.
    logins.take(clientAddress(ctx.req, trusted));
    // The browser would otherwise land on the front proxy's bare error page for the hub.
    if (!(await deps.hub!.reachable())) return hubDown(ctx, prefix);
    const state = newSecret();
    const { url, verifier } = await oauth.authorizeUrl(state);
    deps.sessions.saveOAuthState(state, verifier, next);
    setCookie(ctx, stateCookie(state), '1', {
      path: statePath,
      secure,
      maxAgeS: OAUTH_STATE_MAX_AGE_S,
    });
    if (isEmbedSignIn(next, prefix)) keepOpener(ctx);
    ctx.redirect(url);
  });

  router.get('/oauth_callback', async (ctx) => {
    const state = typeof ctx.query.state === 'string' ? ctx.query.state : '';
    const marks = state === '' ? [] : cookieValues(ctx.get('cookie'), stateCookie(state));
    const startedHere = marks.length === 1 && marks[0] === '1';
    const flight = startedHere ? deps.sessions.takeOAuthState(state) : undefined;
    if (startedHere) clearCookie(ctx, stateCookie(state), { path: statePath, secure });
    if (!oauth || !flight) {
      return page(
        ctx,
        400,
        'Login expired',
        `<p>This login has expired, was already used, or was started in another browser. <a href="${escapeHtml(prefix)}login">Log in again</a>.</p>`,
      );
    }
    let hubUser: HubUser;
    try {
      hubUser = await deps.hub!.userForAccessToken(
        await oauth.exchange(ctx.querystring, state, flight.verifier),
      );
    } catch (err) {
      deps.log.warn({ err: (err as Error).message }, 'JupyterHub login failed');
      if (!(await deps.hub!.reachable())) return hubDown(ctx, prefix);
      return page(
        ctx,
        502,
        'Login failed',
        `<p>JupyterHub did not complete this login. <a href="${escapeHtml(prefix)}login">Try again</a>; if it keeps failing, tell your admin (the hubapps log says why).</p>`,
      );
    }
    let account: string;
    try {
      account = deps.hub!.account(hubUser.name);
    } catch (err) {
      if (!(err instanceof HubappsError)) throw err;
      deps.log.info({ user: hubUser.name, code: err.code }, 'login refused');
      return page(
        ctx,
        403,
        'Not allowed',
        `<p>You are logged in to JupyterHub as <b>${escapeHtml(hubUser.name)}</b>, but that name is not one of this host's accounts for hubapps.</p><p>Ask your admin if you think this is wrong.</p>`,
      );
    }
    await startSession(ctx, deps, account, hubUser.admin, flight.next, secure);
  });

  // Opening the link only shows a button: a link, a frame or a script elsewhere cannot log a browser in as someone else without the user seeing it.
  router.get('/login-link', async (ctx) => {
    const code = typeof ctx.query.code === 'string' ? ctx.query.code : '';
    page(
      ctx,
      200,
      'Log in with a link',
      `<p>This link logs this browser in to hubapps as the user it was made for. Use it only if it was given to you for yourself.</p>
<form method="post" action="${escapeHtml(prefix)}login-link"><input type="hidden" name="code" value="${escapeHtml(code)}"><button type="submit">Log in</button></form>`,
    );
  });

  router.post(
    '/login-link',
    bodyParser({ enableTypes: ['form'], formLimit: '4kb' }),
    async (ctx) => {
      if (requestSource(ctx.req, prefix, origins) === 'foreign') {
        return page(
          ctx,
          403,
          'Refused',
          `<p>Login links work only from their own page. Open the link itself.</p>`,
        );
      }
      const body = ctx.request.body as Record<string, unknown> | undefined;
      const code = typeof body?.code === 'string' ? body.code : '';
      const row = code ? deps.codes.useCode(code, 'login') : undefined;
      if (!row)
        return page(
          ctx,
          400,
          'Link expired',
          '<p>This login link has expired or was already used. Ask for a new one.</p>',
        );
      await startSession(ctx, deps, row.user, false, safeNext(row.next, prefix), secure);
    },
  );

  const loggedOut = (ctx: Context) =>
    page(
      ctx,
      200,
      'Logged out',
      `<p>You are logged out of hubapps. <a href="${escapeHtml(prefix)}login">Log in again</a>.</p>`,
    );
  const sessionOf = (ctx: Context) => {
    const cookie = ctx.cookies.get(SESSION_COOKIE);
    return cookie ? { cookie, session: deps.sessions.session(cookie) } : undefined;
  };

  // A link (an image, a frame, another page's navigation) must not end a session: the page only offers the button.
  router.get('/logout', async (ctx) => {
    if (requestSource(ctx.req, prefix, origins) === 'foreign')
      return page(ctx, 403, 'Refused', '<p>Open the Log out page from the launcher.</p>');
    const session = sessionOf(ctx)?.session;
    if (!session) return loggedOut(ctx);
    page(
      ctx,
      200,
      'Log out',
      `<p>Log this browser out of hubapps? Servers you opened stop letting this browser in within a minute.</p>
<form method="post" action="${escapeHtml(prefix)}logout"><input type="hidden" name="_xsrf" value="${escapeHtml(session.xsrf)}"><button type="submit">Log out</button></form>`,
    );
  });

  router.post('/logout', bodyParser({ enableTypes: ['form'], formLimit: '1kb' }), async (ctx) => {
    const found = sessionOf(ctx);
    if (found?.session) {
      const body = ctx.request.body as Record<string, unknown> | undefined;
      const given = ctx.get('x-xsrf-token') || (typeof body?._xsrf === 'string' ? body._xsrf : '');
      if (!given || !sameSecret(given, found.session.xsrf)) {
        return page(
          ctx,
          403,
          'Refused',
          `<p>This logout did not come from hubapps' own page. <a href="${escapeHtml(prefix)}logout">Log out here</a>.</p>`,
        );
      }
      deps.sessions.deleteSession(found.cookie);
    }
    clearCookie(ctx, SESSION_COOKIE, { path: prefix, secure });
    loggedOut(ctx);
  });
  return router;
}

function hubDown(ctx: Context, prefix: string): void {
  page(
    ctx,
    503,
    'JupyterHub is not available',
    `<p>hubapps logs you in through JupyterHub, which does not answer right now, so a new login is not possible. Servers you already opened keep working.</p><p><a href="${escapeHtml(prefix)}login">Try again</a> in a minute.</p>`,
  );
}

/** Checks the user may use hubapps at all (allowed group), then opens a session and goes on to `next`. */
async function startSession(
  ctx: Context,
  deps: ApiDeps,
  user: string,
  hubAdmin: boolean,
  next: string,
  secure: boolean,
): Promise<void> {
  try {
    await deps.users.check(user);
  } catch (err) {
    if (err instanceof HubappsError && err.status < 500) {
      deps.log.info({ user, code: err.code }, 'login refused');
      return page(
        ctx,
        403,
        'Not allowed',
        `<p>You are logged in as <b>${escapeHtml(user)}</b>, but you may not use hubapps here:</p><p>${escapeHtml(err.message)}</p><p>Ask your admin if you think this is wrong.</p>`,
      );
    }
    throw err;
  }
  const admin = await deps.admins.isAdmin(user, hubAdmin);
  const { cookie } = deps.sessions.createSession(
    user,
    admin,
    deps.config.session_max_age,
    hubAdmin,
  );
  setCookie(ctx, SESSION_COOKIE, cookie, {
    path: deps.urls.servicePrefix(),
    secure,
    maxAgeS: deps.config.session_max_age,
  });
  deps.manager.audit(null, `${user} logged in${admin ? ' (admin)' : ''}`, user);
  if (isEmbedSignIn(next, deps.urls.servicePrefix())) keepOpener(ctx);
  ctx.redirect(next);
}
