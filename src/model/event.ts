import type { ServerState } from './states.js';

/** A state change, progress message or audited action (the events table). */
export interface EventRow {
  id: number;
  server_id: number | null;
  user: string | null;
  server: string | null;
  at: string;
  kind: 'state' | 'progress' | 'audit';
  state: ServerState | null;
  message: string;
  actor: string | null;
}

/** A search of the audit trail and progress messages (GET /events). */
export interface EventQuery {
  user?: string;
  server?: string;
  kind?: string;
  before?: number;
  limit: number;
}
