import { ACTIVE_STATES, type ServerState } from '../model/states.js';

/** `IN (...)` list for SQL over `states` (fixed names from SERVER_STATES, never user input). */
export const sqlStateList = (states: readonly ServerState[] = ACTIVE_STATES): string =>
  `(${states.map((s) => `'${s}'`).join(', ')})`;
