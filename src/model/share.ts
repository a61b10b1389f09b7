import type { ServerRow } from './server.js';

/** Who besides the owner may open a server: named users and groups, and single-use links. */
export type ShareKind = 'user' | 'group';

export interface ShareRow {
  id: number;
  server_id: number;
  kind: ShareKind;
  /** A user name or a Unix group name. */
  subject: string;
  created_by: string;
  created_at: string;
}

/** A share together with the server it opens. */
export interface ShareWithServer extends ShareRow {
  owner: string;
  server: string;
  state: ServerRow['state'];
  app: string;
}

export interface ShareLinkRow {
  id: number;
  server_id: number;
  uses: number;
  uses_left: number;
  created_by: string;
  created_at: string;
  expires_at: string;
}
