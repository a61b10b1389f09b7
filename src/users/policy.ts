import type { CatalogApp } from '../catalog/types.js';
import { HubappsError } from '../errors.js';
import { checkUserName } from '../names.js';
import type { Account, UserChecker, UserDirectory } from './account.js';
import { LocalUserDirectory } from './local.js';

/** The kernel's overflow uid ("nobody"): shared by NFS and containers, never a real person. */
const OVERFLOW_UID = 65534;

/**
 * Production rule for who may start servers: an existing account, never root, not a system
 * account (uid < min_uid, or nobody), member of the allowed group as primary or
 * supplementary group.
 */
export class UserPolicy implements UserChecker {
  constructor(
    private readonly dir: UserDirectory,
    private readonly opts: { allowedGroup: string; minUid: number },
  ) {}

  async check(name: string): Promise<Account> {
    checkUserName(name);
    if (name === 'root') throw isRoot();
    const account = await this.dir.lookup(name);
    if (account.uid === 0) throw isRoot(name);
    if (account.uid < this.opts.minUid || account.uid === OVERFLOW_UID) {
      throw new HubappsError(
        'system_user',
        `user '${name}' has uid ${account.uid}, a system account (min_uid is ${this.opts.minUid}): system accounts cannot start servers`,
      );
    }
    const group = this.opts.allowedGroup;
    if (!account.groups.includes(group)) {
      throw new HubappsError(
        'user_not_in_group',
        `user ${name} is not a member of group ${group}; an admin can add them with: usermod -aG ${group} ${name}`,
      );
    }
    return account;
  }

  appAllowed(account: Account, app: CatalogApp): boolean {
    return appAllowed(account, app);
  }
}

/** Local mode: every valid name is the service's own account and may use every app. */
export class LocalUserPolicy implements UserChecker {
  constructor(private readonly dir: UserDirectory = new LocalUserDirectory()) {}

  async check(name: string): Promise<Account> {
    checkUserName(name);
    return this.dir.lookup(name);
  }

  appAllowed(): boolean {
    return true;
  }
}

/** An app without allowed_groups is open to everyone who passed the policy; otherwise one shared group is needed. */
export function appAllowed(account: Account, app: CatalogApp): boolean {
  return (
    app.allowed_groups.length === 0 || app.allowed_groups.some((g) => account.groups.includes(g))
  );
}

function isRoot(name = 'root') {
  return new HubappsError(
    'user_is_root',
    `refusing to start servers as ${name === 'root' ? 'root' : `'${name}' (uid 0)`}: hubapps never runs apps with root rights`,
  );
}
