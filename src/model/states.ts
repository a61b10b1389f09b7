/** A server's states (the servers table's `state`), in a module of their own so the event log can name them without importing the server store. */
export const SERVER_STATES = [
  'pending',
  'starting',
  'running',
  'stopping',
  'stopped',
  'failed',
] as const;
export type ServerState = (typeof SERVER_STATES)[number];
export const ACTIVE_STATES: readonly ServerState[] = ['pending', 'starting', 'running', 'stopping'];
