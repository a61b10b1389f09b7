import type { Config } from '../config/schema.js';
import type { UserDirectory } from '../users/account.js';

/** Admins: JupyterHub's admin flag, or named in admin_users, or in one of admin_groups (NSS). */
export class AdminPolicy {
  constructor(
    private readonly config: Pick<Config, 'admin_users' | 'admin_groups'>,
    private readonly directory: UserDirectory,
  ) {}

  async isAdmin(user: string, hubAdmin = false): Promise<boolean> {
    if (hubAdmin || this.config.admin_users.includes(user)) return true;
    if (this.config.admin_groups.length === 0) return false;
    try {
      const account = await this.directory.lookup(user);
      return this.config.admin_groups.some((g) => account.groups.includes(g));
    } catch {
      return false;
    }
  }
}
