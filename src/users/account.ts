import type { CatalogApp } from '../catalog/types.js';

/** A Unix account as NSS reports it (files, LDAP, SSSD: whatever nsswitch.conf says). */
export interface Account {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
  /** Names of all groups the account is in, primary group first (a gid without a name appears as its number). */
  groups: string[];
}

/** Where accounts come from: NSS in production, the service's own account in local mode. */
export interface UserDirectory {
  /** Throws HubappsError 'invalid_user' (400), 'unknown_user' (404) or 'nss_failed' (500). */
  lookup(name: string): Promise<Account>;
}

/** Who may start servers at all, and which apps: UserPolicy (production) and LocalUserPolicy (demo). */
export interface UserChecker {
  /** The account of `name` if it may start servers; throws HubappsError saying why not. */
  check(name: string): Promise<Account>;
  /** May this (already checked) account use `app`? */
  appAllowed(account: Account, app: CatalogApp): boolean;
}
