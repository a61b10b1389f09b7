import { bearer, sameSecret, type Identity } from '../auth/identity.js';
import { HubappsError } from '../errors.js';
import type { ServerRow } from '../store/servers.js';
import type { ApiDeps } from './deps.js';

/** Owners use their servers; admins only when admin_access is on (they can always stop them through the API). */
export function mayUseServer(deps: ApiDeps, who: Identity, owner: string): boolean {
  return who.name === owner || (who.admin && deps.config.admin_access);
}

/** The server a proxy speaks for, proven by that server's secret. */
export function proxyRow(deps: ApiDeps, serverId: unknown, authorization: string): ServerRow {
  const row = typeof serverId === 'number' ? deps.store.byId(serverId) : undefined;
  const secret = bearer(authorization);
  if (!row || !row.secret || !secret || !sameSecret(secret, row.secret)) {
    throw new HubappsError('proxy_unknown', 401, 'unknown server or wrong server secret');
  }
  return row;
}
