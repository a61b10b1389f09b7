import type { Logger } from 'pino';
import type { ServerRow } from '../store/servers.js';

/**
 * Every failed start becomes exactly one service log line that an admin can grep for: who,
 * which server, which app and why, with the stable reason code. The launcher shows the
 * same reason to the user; the line is for the admin who was not watching.
 */
export function logFailedStart(
  log: Logger,
  row: Pick<ServerRow, 'id' | 'user' | 'name' | 'app'>,
  code: string,
  reason: string,
  err?: unknown,
): void {
  const fields = {
    user: row.user,
    server: row.name,
    app: row.app,
    serverId: row.id,
    code,
    reason,
    ...(err === undefined ? {} : { err }),
  };
  log.warn(fields, `start failed: ${row.user}/${row.name} (app ${row.app}): ${reason}`);
}
