import Router, { type RouterContext } from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import { HubappsError } from '../errors.js';
import { checkUserName, printable } from '../names.js';
import type { ShareKind, ShareWithServer } from '../model/share.js';
import { groupExists } from '../users/groups.js';
import type { Account } from '../users/account.js';
import type { CatalogApp } from '../catalog/types.js';
import { namedServer, ownerOnly, sharingRefusal, shareCreator } from './server-access.js';
import type { ApiDeps } from './deps.js';
import { adminOnly, whoOf } from './guards.js';

/**
 * Shares of one server with named users or Unix groups: the owner adds them; the owner or
 * an admin lists and revokes them; recipients list what is shared with them; admins list
 * all. Only on per-server origins, and only while sharing is on for the host and the
 * server's app.
 */
export function shareRoutes(deps: ApiDeps): Router {
  const router = new Router();
  const json = bodyParser({ enableTypes: ['json'], jsonLimit: '4kb' });
  const owner = ownerOnly(deps);
  const server = (ctx: RouterContext) => namedServer(deps, ctx);

  router.get('/users/:user/servers/:name/shares', owner, (ctx) => {
    const row = server(ctx);
    const refusal = sharingRefusal(deps, row);
    ctx.body = {
      shareable: refusal === null,
      ...(refusal ? { reason: refusal.message } : {}),
      shares: deps.shares.forServer(row.id).map(presentShare),
    };
  });

  router.post('/users/:user/servers/:name/shares', owner, json, async (ctx) => {
    const row = server(ctx);
    const who = shareCreator(ctx, row);
    const refusal = sharingRefusal(deps, row);
    if (refusal) throw refusal;
    const { kind, subject } = parseShareBody(ctx.request.body);
    await checkRecipient(deps, kind, subject, row.user, deps.catalog().get(row.app));
    const share = deps.shares.add(row, kind, subject, who.name);
    ctx.status = 201;
    ctx.body = presentShare({
      ...share,
      owner: row.user,
      server: row.name,
      state: row.state,
      app: row.app,
    });
  });

  router.delete('/users/:user/servers/:name/shares/:id', owner, async (ctx) => {
    const row = server(ctx);
    const share = deps.shares.byId(Number(ctx.params.id));
    if (!share || share.server_id !== row.id)
      throw new HubappsError(
        'no_such_share',
        `${row.user}/${row.name} has no share ${printable(ctx.params.id!)}`,
      );
    deps.shares.remove(share, whoOf(ctx).name);
    ctx.status = 204;
  });

  router.get('/users/:user/shared-with-me', owner, async (ctx) => {
    const user = ctx.params.user!;
    let account: Account | undefined;
    try {
      account = await deps.users.check(user);
    } catch (err) {
      if (!(err instanceof HubappsError) || err.status >= 500) throw err;
    }
    // A share that cannot be used right now (sharing off, path layout, an app closed to this user) is not offered.
    const usable = (s: ShareWithServer, a: Account) => {
      const app = deps.catalog().get(s.app);
      return (
        s.owner !== user &&
        app !== undefined &&
        deps.users.appAllowed(a, app) &&
        sharingRefusal(deps, { app: s.app, user: s.owner, name: s.server }) === null
      );
    };
    const shares =
      account === undefined
        ? []
        : deps.shares.reaching(user, account.groups).filter((s) => usable(s, account));
    ctx.body = {
      shares: shares.map((s) => ({
        ...presentShare(s),
        url: deps.urls.serverLink(s.owner, s.server),
      })),
    };
  });

  router.get('/shares', adminOnly(deps), async (ctx) => {
    ctx.body = { shares: deps.shares.all().map(presentShare) };
  });

  return router;
}

/** `{"user": NAME}` or `{"group": NAME}`, exactly one. */
export function parseShareBody(body: unknown): { kind: ShareKind; subject: string } {
  const hint = 'the body must be {"user": NAME} or {"group": UNIX_GROUP}';
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new HubappsError('invalid_body', hint);
  const keys = Object.keys(body);
  if (keys.length !== 1 || (keys[0] !== 'user' && keys[0] !== 'group'))
    throw new HubappsError('invalid_body', hint);
  const kind = keys[0] as ShareKind;
  const subject = (body as Record<string, unknown>)[kind];
  if (typeof subject !== 'string' || subject === '') throw new HubappsError('invalid_body', hint);
  return { kind, subject };
}

/**
 * A user recipient must be someone else who passes the user policy (allowed group, no
 * system account) and may use the server's app (`app`, when it is in the catalog); a group
 * must exist, and its members are held to the app's rule when they visit (access.ts).
 */
export async function checkRecipient(
  deps: Pick<ApiDeps, 'users'>,
  kind: ShareKind,
  subject: string,
  owner: string,
  app?: CatalogApp,
): Promise<void> {
  if (kind === 'group') {
    if (!(await groupExists(subject)))
      throw new HubappsError(
        'unknown_group',
        `no Unix group '${printable(subject)}' on this host (getent group)`,
      );
    return;
  }
  checkUserName(subject);
  if (subject === owner)
    throw new HubappsError('share_with_self', `${owner} owns this server already`);
  let account: Account;
  try {
    account = await deps.users.check(subject);
  } catch (err) {
    if (err instanceof HubappsError && err.status < 500)
      throw new HubappsError(
        'recipient_not_allowed',
        `cannot share with ${subject}: ${err.message}`,
      );
    throw err;
  }
  if (app && !deps.users.appAllowed(account, app)) {
    throw new HubappsError(
      'recipient_not_allowed',
      `cannot share with ${subject}: app '${app.name}' is limited to other groups (allowed_groups)`,
    );
  }
}

function presentShare(s: ShareWithServer) {
  return {
    id: s.id,
    owner: s.owner,
    server: s.server,
    app: s.app,
    state: s.state,
    [s.kind]: s.subject,
    created_by: s.created_by,
    created_at: s.created_at,
  };
}
