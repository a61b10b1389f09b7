import type { Config } from '../config/schema.js';
import { HubappsError } from '../errors.js';

/**
 * JupyterHub user names <-> Unix accounts (jupyterhub.usernames). Every hub identity that
 * enters (a hub token, the OAuth login) becomes an account here, and only here; activity
 * going back to the hub is named the hub's way.
 */
export class HubNames {
  private readonly toAccountMap: ReadonlyMap<string, string>;
  private readonly toHubMap: ReadonlyMap<string, string>;

  constructor(private readonly cfg: Pick<Config['jupyterhub'], 'usernames' | 'username_map'>) {
    this.toAccountMap = new Map(Object.entries(cfg.username_map));
    this.toHubMap = new Map(
      Object.entries(cfg.username_map).map(([hub, account]) => [account, hub]),
    );
  }

  /** The Unix account a hub user acts as; a hub user the map does not list is refused. */
  account(hubName: string): string {
    if (this.cfg.usernames === 'unix') return hubName;
    const account = this.toAccountMap.get(hubName);
    if (account === undefined) {
      throw new HubappsError(
        'user_not_allowed',
        `the JupyterHub user ${hubName} has no Unix account here: hubapps takes only the hub users listed in jupyterhub.username_map`,
      );
    }
    return account;
  }

  /** The hub's name for an account, or undefined when no hub user maps to it. */
  hubName(account: string): string | undefined {
    return this.cfg.usernames === 'unix' ? account : this.toHubMap.get(account);
  }
}
