/**
 * The hub stack with hubapps as JupyterHub's spawner: HubappsSpawner (the built module,
 * copied root-owned onto the hub's PYTHONPATH) talks to the service with a spawner
 * token both share as files, named servers are on, eve is the hub's admin, and alice may
 * open bob's servers through a hub role. What the tests ask the hub, the service and
 * /proc about servers lives here too.
 */
import { randomBytes } from 'node:crypto';
import { cp, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Page } from 'playwright-core';
import { PROXY_MAIN_IN_LIB } from '../../src/proxy/command-line.js';
import { allProcesses, uidOfUser } from '../system/proc-scan.js';
import { TEST_USERS, lockDown, repoRoot } from '../system/harness.js';
import { spawnerTestConfig } from './spawner-config.js';
import { HUB_ONLY_USER, HubStack } from './stack.js';

const { alice, bob } = TEST_USERS;

/** The hub's admin in these tests: a hub-only user (no Unix account needed to administer). */
export const HUB_ADMIN = HUB_ONLY_USER;
/** alice's named server (the echo app) and bob's (his static files). */
export const ALICE_SERVER = 'work';
export const BOB_SERVER = 'site';
export const ALICE_PATH = `/user/${alice}/${ALICE_SERVER}/`;
/** What alice's echo app shows; none of it may reach anyone else. */
export const ALICE_SECRET = `echo app of ${alice}`;

export const showsAlicesApp = async (page: Page): Promise<boolean> =>
  ((await page.textContent('#who').catch(() => null)) ?? '') === ALICE_SECRET;

/** As the build puts it next to the compiled service (and `hubapps install --jupyterhub-spawner` takes it from). */
export const SPAWNER_MODULE = join(repoRoot(), 'dist', 'src', 'jupyterhub', 'hubapps_spawner.py');

export interface Answer {
  status: number;
  body: any;
}

async function answer(res: Response): Promise<Answer> {
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) };
  } catch {
    return { status: res.status, body: text };
  }
}

/** What the tests read of a server's row: a hub server's `port` is its proxy's, `app_port` its app's. */
export interface ServerRow {
  id: number;
  state: string;
  proxy_pid: number | null;
  port: number | null;
  app_port: number | null;
}

export class SpawnerStack {
  readonly spawnerToken = randomBytes(24).toString('base64url');
  /** A hub service token that reads users and their servers. */
  readonly serversToken = randomBytes(24).toString('base64url');
  /** Where the spawner module is installed for the hub (created by `installModule`). */
  readonly moduleDir = `/tmp/hubapps-t-spawner-${randomBytes(4).toString('hex')}`;
  readonly hub: HubStack;

  constructor() {
    this.hub = new HubStack({
      // As production runs it: the app's port is its owner's, the proxy's port open to the hub's CHP.
      portGuard: true,
      secrets: { 'spawner-token': this.spawnerToken },
      hubKeys: (p) => ({ spawner_token: `file:${join(p.secretsDir, 'spawner-token')}` }),
      hubEnv: { PYTHONPATH: this.moduleDir },
      hubConfig: (p) =>
        spawnerTestConfig({
          hubappsUrl: `${p.serviceUrl}/services/hubapps/`,
          tokenFile: join(p.secretsDir, 'spawner-token'),
          admins: [HUB_ADMIN],
          roles: [
            {
              name: 'alice-visits-bob',
              // !user=, not !server=${bob}/${BOB_SERVER}: JupyterHub 3.0.0 fails every OAuth token of a
              // user holding a server-filtered scope (jupyterhub/jupyterhub#4569, fixed after 3.0).
              scopes: [`access:servers!user=${bob}`],
              users: [alice],
            },
          ],
          observer: {
            name: 'e2e-servers',
            token: this.serversToken,
            scopes: ['read:users', 'read:servers'],
          },
        }),
    });
  }

  /** The spawner module, root-owned and world-readable, where the hub's PYTHONPATH points. */
  async installModule(): Promise<void> {
    await mkdir(this.moduleDir, { recursive: true });
    await cp(SPAWNER_MODULE, join(this.moduleDir, 'hubapps_spawner.py'));
    await lockDown(this.moduleDir);
  }

  async removeModule(): Promise<void> {
    await rm(this.moduleDir, { recursive: true, force: true });
  }

  url(path: string): string {
    return `${this.hub.publicUrl}${path}`;
  }

  /** The hub's REST API through CHP, as a user's script calls it. */
  async hubApi(token: string, method: string, path: string, body?: unknown): Promise<Answer> {
    const res = await fetch(this.url(`/hub/api${path}`), {
      method,
      headers: {
        authorization: `token ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return answer(res);
  }

  /** A server as the hub's API shows it (`ready`, `pending`, `url`...), or undefined when the hub has none. */
  async hubServer(user: string, server: string): Promise<any> {
    const got = await this.hubApi(this.serversToken, 'GET', `/users/${user}`);
    if (got.status !== 200) throw new Error(`GET users/${user}: ${got.status}`);
    return got.body.servers?.[server];
  }

  /** The spawner API of the service, with the spawner's token. */
  async spawnerApi(method: string, path: string): Promise<Answer> {
    const res = await fetch(`${this.hub.paths.serviceUrl}/services/hubapps/api/hub${path}`, {
      method,
      headers: { authorization: `token ${this.spawnerToken}` },
    });
    return answer(res);
  }

  /** Where the server's proxy listens (http://127.0.0.1:PORT), as the service tells the spawner. */
  async hubTarget(user: string, server: string): Promise<string> {
    const got = await this.spawnerApi('GET', `/users/${user}/servers/${server}`);
    if (got.status !== 200 || typeof got.body.hub_target !== 'string')
      throw new Error(
        `no hub_target for ${user}/${server}: ${got.status} ${JSON.stringify(got.body)}`,
      );
    return got.body.hub_target as string;
  }

  /** The server's row in hubapps' database. */
  row(user: string, name: string): ServerRow {
    const db = new Database(this.hub.dbFile, { readonly: true, fileMustExist: true });
    try {
      return db
        .prepare(
          'SELECT id, state, proxy_pid, port, app_port FROM servers WHERE user = ? AND name = ?',
        )
        .get(user, name) as ServerRow;
    } finally {
      db.close();
    }
  }

  /** The progress messages hubapps recorded for the server. */
  progressMessages(serverId: number): string[] {
    const db = new Database(this.hub.dbFile, { readonly: true, fileMustExist: true });
    try {
      return (
        db.prepare('SELECT message FROM events WHERE server_id = ?').all(serverId) as {
          message: string | null;
        }[]
      )
        .map((e) => e.message ?? '')
        .filter(Boolean);
    } finally {
      db.close();
    }
  }

  /** pids of the installed hubapps-proxy processes running as `user`. */
  async proxyPids(user: string): Promise<number[]> {
    const uid = await uidOfUser(user);
    const main = join(this.hub.installed!.root, 'lib', PROXY_MAIN_IN_LIB);
    return allProcesses()
      .filter((p) => p.uids[0] === uid && p.argv.includes(main))
      .map((p) => p.pid);
  }
}
