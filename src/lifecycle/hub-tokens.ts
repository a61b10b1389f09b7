import type { Logger } from 'pino';
import type { HubClient } from '../auth/hub-client.js';
import { hashSecret } from '../secret-hash.js';
import type { HubTokenStore } from '../store/hub-tokens.js';
import type { ServerRow } from '../store/servers.js';

/**
 * What a server's hub token may do at the hub: tell whose it is and report its owner's
 * activity. Not `access:services`: should it outlive its server (hub down at the stop), the
 * hub's answer to hubapps' own check of it still grants nothing here.
 */
export const HUB_TOKEN_SCOPES = ['read:users:name!user', 'users:activity!user'] as const;

/** A token lives at the hub this long when no culler.max_age bounds the server (a week). */
export const HUB_TOKEN_DEFAULT_LIFE_S = 7 * 24 * 3600;

/**
 * Server tokens issued by JupyterHub (jupyterhub.server_tokens_from_hub): each start asks
 * the hub for one, and every token no active server holds any more is deleted there. A hub
 * that refuses or is down never fails a start: the caller makes a hubapps-only token.
 */
export class HubServerTokens {
  /** The pass running now, and the one asked for meanwhile, which starts after it and looks again. */
  private running: Promise<void> | undefined;
  private next: Promise<void> | undefined;

  constructor(
    private readonly hub: Pick<HubClient, 'issueToken' | 'deleteToken'>,
    private readonly store: HubTokenStore,
    private readonly log: Logger,
    /** Seconds the hub keeps a token at most (culler.max_age, else a week). */
    private readonly lifeS: number,
  ) {}

  /** The server's token from the hub, already held by its row; undefined (one warning logged) when the hub gave none. */
  async issue(row: Pick<ServerRow, 'id' | 'user' | 'name'>): Promise<string | undefined> {
    try {
      const issued = await this.hub.issueToken(row.user, {
        note: `hubapps server ${row.user}/${row.name}`,
        expiresInS: this.lifeS,
        scopes: HUB_TOKEN_SCOPES,
      });
      if (!issued) {
        this.log.warn(
          { server: row.id, user: row.user },
          'no JupyterHub user maps to this account: the server gets a token only hubapps accepts',
        );
        return undefined;
      }
      this.store.hold(row.id, hashSecret(issued.token), {
        token_id: issued.id,
        hub_user: issued.hubUser,
        expires_at: new Date(Date.now() + this.lifeS * 1000).toISOString(),
      });
      return issued.token;
    } catch (err) {
      this.log.warn(
        { server: row.id, user: row.user, err: (err as Error).message },
        'JupyterHub issued no server token (jupyterhub.server_tokens_from_hub): the server gets a token only hubapps accepts',
      );
      return undefined;
    }
  }

  /** Delete at the hub every token no active server holds; one that cannot be deleted now stays listed for the next pass. Never throws. */
  sweep(): Promise<void> {
    if (!this.running) return this.start();
    this.next ??= this.running.then(() => {
      this.next = undefined;
      return this.start();
    });
    return this.next;
  }

  private start(): Promise<void> {
    const pass = this.deleteOrphans().finally(() => {
      if (this.running === pass) this.running = undefined;
    });
    this.running = pass;
    return pass;
  }

  private async deleteOrphans(): Promise<void> {
    const now = new Date().toISOString();
    for (const token of this.store.orphans()) {
      if (token.expires_at <= now) {
        this.store.forget(token.token_id);
        continue;
      }
      try {
        await this.hub.deleteToken(token.hub_user, token.token_id);
        this.store.forget(token.token_id);
      } catch (err) {
        this.log.warn(
          { token: token.token_id, user: token.hub_user, err: (err as Error).message },
          'a server token could not be deleted at JupyterHub yet; the next reconcile pass tries again',
        );
      }
    }
  }
}
