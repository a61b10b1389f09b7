import type { AuthStore } from '../store/auth.js';
import type { ShareStore } from '../store/shares.js';
import type { PortRecords } from '../store/server-ports.js';

export type { PortRecords } from '../store/server-ports.js';

/** One-time codes: the grant flow's access codes and login links. */
export type CodeRecords = Pick<
  AuthStore,
  'createGrant' | 'useGrant' | 'createCode' | 'useCode' | 'maxOutstandingGrants'
>;
/** Browser sessions, and the OAuth state of logins in progress. */
export type SessionRecords = Pick<
  AuthStore,
  | 'createSession'
  | 'deleteSession'
  | 'session'
  | 'sessionByHash'
  | 'saveOAuthState'
  | 'takeOAuthState'
>;
/** Users' API tokens. */
export type TokenRecords = Pick<AuthStore, 'createToken' | 'deleteToken' | 'tokens'>;
/** Shares of servers and share links. */
export type ShareRecords = Pick<
  ShareStore,
  | 'add'
  | 'addLink'
  | 'all'
  | 'byId'
  | 'forServer'
  | 'grants'
  | 'link'
  | 'linkByCode'
  | 'links'
  | 'reaching'
  | 'redeemLink'
  | 'remove'
  | 'removeLink'
>;

/**
 * The records that decide who gets in, each as the narrow set of calls the API makes: the
 * auth layer owns the stores behind them; the API never gets a store, so it cannot, say,
 * prune sessions or read another table.
 */
export interface AuthRecords {
  codes: CodeRecords;
  sessions: SessionRecords;
  tokens: TokenRecords;
  shares: ShareRecords;
  /** Users' own ports: the forwards servers' proxies opened, and which the owner shared. */
  ports: PortRecords;
}
