import type { ServerName, UserName } from '../names.js';
import type { ServerState } from './states.js';

/** One named server of one user: a row of the servers table, as every layer sees it. */
export interface ServerRow {
  id: number;
  /** Checked before the row was written, as every name that reaches the store. */
  user: UserName;
  name: ServerName;
  app: string;
  state: ServerState;
  reason: string | null;
  options: string;
  /** The launch form's values (JSON object by field name). */
  form: string;
  port: number | null;
  secret: string | null;
  launcher_pid: number | null;
  proxy_pid: number | null;
  app_pid: number | null;
  log_file: string | null;
  /** Which launcher runs it, and that launcher's saved state (JSON only it reads). */
  launcher: string | null;
  launcher_state: string | null;
  created_at: string;
  started_at: string | null;
  ready_at: string | null;
  stopped_at: string | null;
  last_activity: string | null;
  /** SHA-256 of the server's API token while it is active (docs/api.md, "Server tokens"), else null. */
  api_token_hash: string | null;
  /** The id at JupyterHub of that token when the hub issued it (jupyterhub.server_tokens_from_hub), else null. */
  hub_token_id: string | null;
  /**
   * Set for a server JupyterHub started through HubappsSpawner (api/hub/): the hub's user
   * and server names and the prefix the hub routes to it. Its `port` is then its proxy's
   * loopback TCP port and `app_port` its app's; all four are null for other servers.
   */
  hub_user: string | null;
  hub_server: string | null;
  hub_prefix: string | null;
  app_port: number | null;
  updated_at: string;
}
