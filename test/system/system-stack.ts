import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { stringify } from 'yaml';
import { startChp, type RunningChp } from '../../src/chp/chp-process.js';
import { httpFetch } from '../helpers/http-fetch.js';
import { freePort } from '../helpers/ports.js';
import { runAllSteps } from '../helpers/teardown.js';
import { waitFor } from '../helpers/wait.js';
import {
  TEST_GROUP,
  TEST_USERS,
  createTestAccounts,
  installCatalog,
  installProxy,
  installService,
  removeTestAccounts,
  run,
  writeSudoers,
  type RunResult,
  type InstalledProxy,
} from './harness.js';
import { createServiceState, hostDirsFor, removeServiceState } from './harness-state.js';
import { installPortGuard, type InstalledGuard } from './harness-guard.js';
import { startServiceProcess, type ServiceProcess } from './service-process.js';

/** Answers with who it runs as and its environment, so a test sees the app's side of a start. */
const WHOAMI = `require('http').createServer((q, s) => {
  s.setHeader('content-type', 'application/json');
  s.end(JSON.stringify({ uid: process.getuid(), gid: process.getgid(), env: process.env, url: q.url }));
}).listen(+process.argv[1], '127.0.0.1')`;

export const APPS = {
  web: {
    title: 'Web',
    command: ['/usr/bin/python3', '-m', 'http.server', '{port}', '--bind', '127.0.0.1'],
    ready: { timeout: 20 },
  },
  // Braces are doubled: a single one is placeholder syntax in the catalog.
  whoami: {
    title: 'Who am I',
    command: [process.execPath, '-e', WHOAMI.replace(/[{}]/g, '$&$&'), '{port}'],
    ready: { timeout: 20 },
  },
};

export const RECONCILE_INTERVAL_S = 1;

/** Per-server origins (`appsLayout`): servers at SERVER--USER.apps.localhost, reached through the apps CHP with a Host header. */
export const SYSTEM_APPS_DOMAIN = 'apps.localhost';

/** A server row as the service stored it (read straight from SQLite, as root). */
export interface StoredServer {
  id: number;
  user: string;
  name: string;
  state: string;
  reason: string | null;
  port: number | null;
  secret: string | null;
  launcher_pid: number | null;
  proxy_pid: number | null;
  app_pid: number | null;
  launcher_state: string | null;
  /** A server JupyterHub started: its app's port (`port` is its proxy's). */
  app_port: number | null;
}

/** The unix socket a server's proxy listens on, as the launcher saved it. */
export function proxySocketOf(row: Pick<StoredServer, 'launcher_state'>): string {
  return decodeURIComponent(routeTargetOf(row).slice('http+unix://'.length));
}

/** Where CHP should send a server's requests: its proxy's unix socket, as the launcher saved it. */
export function routeTargetOf(row: Pick<StoredServer, 'launcher_state'>): string {
  const socket = (JSON.parse(row.launcher_state ?? '{}') as { socket?: string }).socket;
  if (!socket) throw new Error(`no proxy socket saved in ${row.launcher_state}`);
  return `http+unix://${encodeURIComponent(socket)}`;
}

/** A route as CHP's REST API lists it: the target plus the data hubapps attached. */
export interface ChpRoute {
  target: string;
  hubapps?: boolean;
  kind?: string;
  user?: string;
  server?: string;
}

export interface ApiAnswer {
  status: number;
  body: any;
}

/**
 * The production set-up on this machine: test accounts, the proxy and the service
 * installed root-owned under /opt/hubapps-t-*, a root-owned catalog, the sudoers rule,
 * a real CHP, and `hubapps serve` running as hubapps-t-svc with the sudo launcher.
 */
export class SystemStack {
  installed?: InstalledProxy;
  chp?: RunningChp;
  /** The apps CHP (appsLayout only). */
  appsChp?: RunningChp;
  service?: ServiceProcess;
  stateDir = '';
  port = 0;
  readonly adminToken = randomBytes(24).toString('base64url');
  readonly chpToken = randomBytes(24).toString('base64url');
  private cliPath = '';
  private configFile = '';
  private removeRule?: () => Promise<void>;
  private attempted = false;

  private guard?: InstalledGuard;

  /**
   * `extra`: more catalog apps and config keys (e.g. slurm) on top of the defaults;
   * `portGuard`: install the port guard's helper and sudoers rule, and require it;
   * `serviceEnv`: more variables in the service's own environment;
   * `appsLayout`: per-server origins on SYSTEM_APPS_DOMAIN, through a second, host-routing CHP.
   */
  constructor(
    private readonly extra: {
      apps?: Record<string, object>;
      config?: Record<string, unknown>;
      portGuard?: boolean;
      serviceEnv?: Record<string, string>;
      appsLayout?: boolean;
    } = {},
  ) {}

  get dbFile(): string {
    return join(this.stateDir, 'data', 'hubapps.sqlite');
  }

  /** The service's config file, for tests that change it and restart the service. */
  get configPath(): string {
    return this.configFile;
  }

  get apiUrl(): string {
    return `http://127.0.0.1:${this.port}/services/hubapps/api`;
  }

  async setUp(): Promise<void> {
    this.attempted = true;
    await createTestAccounts();
    this.installed = await installProxy();
    this.cliPath = await installService(this.installed);
    await installCatalog(this.installed.catalogDir, { ...APPS, ...this.extra.apps });
    this.removeRule = await writeSudoers(TEST_USERS.svc, TEST_GROUP, this.installed.proxyPath);
    await this.writeState();
    if (this.extra.portGuard)
      this.guard = await installPortGuard(this.installed, join(this.stateDir, 'hubapps.yaml'));
    this.chp = await startChp({ authToken: this.chpToken });
    if (this.extra.appsLayout)
      this.appsChp = await startChp({ authToken: this.chpToken, hostRouting: true });
    // The service must listen on a port known in advance; another process may take it first.
    for (let attempt = 1; ; attempt++) {
      this.port = await freePort();
      await this.writeConfig();
      try {
        return await this.startService();
      } catch (err) {
        if (attempt >= 3 || !/EADDRINUSE/.test((err as Error).message)) throw err;
      }
    }
  }

  /** data, logs and secrets in a 0700 directory of the service user; the secrets readable by it alone. */
  private async writeState(): Promise<void> {
    this.stateDir = await createServiceState({
      'chp-token': this.chpToken,
      'admin-token': this.adminToken,
    });
  }

  private async writeConfig(): Promise<void> {
    const secrets = join(this.stateDir, 'secrets');
    this.configFile = join(this.stateDir, 'hubapps.yaml');
    const config = {
      public_url: this.chp!.proxyUrl,
      listen: { host: '127.0.0.1', port: this.port },
      data_dir: join(this.stateDir, 'data'),
      log_dir: join(this.stateDir, 'logs'),
      ...hostDirsFor(this.stateDir),
      catalog_dir: this.installed!.catalogDir,
      allowed_group: TEST_GROUP,
      launcher: 'sudo',
      sudo_command: '/usr/bin/sudo',
      proxy_command: this.installed!.proxyPath,
      chp: { api_url: this.chp!.apiUrl, auth_token: `file:${join(secrets, 'chp-token')}` },
      ...(this.appsChp
        ? {
            apps_domain: SYSTEM_APPS_DOMAIN,
            apps_scheme: 'http',
            apps_port: this.appsChp.port,
            apps_chp: {
              api_url: this.appsChp.apiUrl,
              auth_token: `file:${join(secrets, 'chp-token')}`,
            },
          }
        : {}),
      admin_token: `file:${join(secrets, 'admin-token')}`,
      admin_access: true,
      reconcile_interval: RECONCILE_INTERVAL_S,
      stop_grace: 1,
      log_level: process.env.HUBAPPS_TEST_LOG ?? 'info',
      port_guard: this.guard
        ? { mode: 'required', command: this.guard.helperPath, table: this.guard.table }
        : { mode: 'off' },
      ...this.extra.config,
    };
    // Root-owned and world-readable like /etc/hubapps/hubapps.yaml: it holds no secrets.
    await writeFile(this.configFile, stringify(config), { mode: 0o644 });
  }

  async startService(): Promise<void> {
    this.service = await startServiceProcess({
      user: TEST_USERS.svc,
      cliPath: this.cliPath,
      configFile: this.configFile,
      healthUrl: `${this.apiUrl}/health`,
      ...(this.extra.serviceEnv ? { env: this.extra.serviceEnv } : {}),
    });
  }

  /** Stop CHP and start a fresh one (no routes) on the same ports, as a CHP restart does. */
  async restartChp(): Promise<void> {
    const { port, apiPort } = this.chp!;
    await this.chp!.stop();
    this.chp = await startChp({ authToken: this.chpToken, port, apiPort });
  }

  /** The port guard's helper, run as root as the service runs it through sudo: `allow`, `revoke`, `show`... */
  portGuard(...args: string[]): Promise<RunResult> {
    if (!this.guard) throw new Error('this stack has no port guard: start it with portGuard: true');
    return run(this.guard.helperPath, args);
  }

  async removeSudoers(): Promise<void> {
    await this.removeRule?.();
  }

  /** The API as the admin, or as the holder of `token` (a user's own, so owner-only calls are the user's). */
  async api(
    method: string,
    path: string,
    body?: unknown,
    token = this.adminToken,
  ): Promise<ApiAnswer> {
    const res = await fetch(`${this.apiUrl}${path}`, {
      method,
      headers: {
        authorization: `token ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    try {
      return { status: res.status, body: JSON.parse(text) };
    } catch {
      return { status: res.status, body: text };
    }
  }

  /** A request through CHP's public port, as a browser or script sends it. */
  viaChp(path: string, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(`${this.chp!.proxyUrl}${path}`, { headers, redirect: 'manual' });
  }

  /** A request through the apps CHP for the origin `host` (e.g. term--alice.apps.localhost), as a browser on that origin sends it. */
  viaAppsChp(host: string, path: string, headers: Record<string, string> = {}): Promise<Response> {
    if (!this.appsChp)
      throw new Error('this stack has no apps CHP: start it with appsLayout: true');
    return httpFetch(`http://127.0.0.1:${this.appsChp.port}${path}`, {
      headers: { host: `${host}:${this.appsChp.port}`, ...headers },
    });
  }

  /** CHP's whole routing table, straight from its REST API. */
  async routes(): Promise<Record<string, ChpRoute>> {
    const res = await fetch(`${this.chp!.apiUrl}/api/routes`, {
      headers: { authorization: `token ${this.chpToken}` },
    });
    if (res.status !== 200) throw new Error(`CHP answered ${res.status} to GET /api/routes`);
    return (await res.json()) as Record<string, ChpRoute>;
  }

  /** Server rows, read from the service's SQLite file (root may read it; SQLite keeps -wal/-shm owned by the service). */
  servers(user?: string): StoredServer[] {
    const db = new Database(this.dbFile, { readonly: true, fileMustExist: true });
    try {
      const sql =
        'SELECT id, user, name, state, reason, port, secret, launcher_pid, proxy_pid, app_pid, launcher_state, app_port FROM servers';
      return (
        user === undefined ? db.prepare(sql).all() : db.prepare(`${sql} WHERE user = ?`).all(user)
      ) as StoredServer[];
    } finally {
      db.close();
    }
  }

  eventCount(user: string): number {
    const db = new Database(this.dbFile, { readonly: true, fileMustExist: true });
    try {
      return db.prepare('SELECT COUNT(*) FROM events WHERE user = ?').pluck().get(user) as number;
    } finally {
      db.close();
    }
  }

  row(user: string, name: string): StoredServer | undefined {
    return this.servers(user).find((s) => s.name === name);
  }

  /** Start a server through the API and wait until it runs; a failed start throws with its reason. */
  async startServer(user: string, name: string, app: string): Promise<StoredServer> {
    const r = await this.api('POST', `/users/${user}/servers/${name}`, { app });
    if (r.status !== 202)
      throw new Error(`start of ${user}/${name} answered ${r.status}: ${JSON.stringify(r.body)}`);
    await this.waitState(user, name, ['running']);
    return this.row(user, name)!;
  }

  /** Wait until the row reaches one of `states`; reaching another settled state throws with the reason. */
  async waitState(
    user: string,
    name: string,
    states: string[],
    timeout = 20_000,
  ): Promise<StoredServer> {
    return waitFor(
      () => {
        const row = this.row(user, name);
        if (row && states.includes(row.state)) return row;
        if (row && ['failed', 'stopped'].includes(row.state))
          throw new Error(`${user}/${name} is ${row.state}: ${row.reason}`);
        return undefined;
      },
      { timeout, interval: 100, what: `${user}/${name} to be ${states.join(' or ')}` },
    );
  }

  /** For a failed test: the newest lines the service printed (it runs in its own process, so mocha cannot show them). */
  reportFailure(title: string): void {
    const output = this.service?.output().trim().split('\n').slice(-40).join('\n');
    if (output)
      process.stderr.write(`--- service output up to the failure of "${title}":\n${output}\n---\n`);
  }

  /** Everything set up is taken down, each step even when an earlier one failed; the first problem is thrown. */
  async tearDown(): Promise<void> {
    if (!this.attempted) return;
    await runAllSteps([
      () => this.stopServers(),
      () => this.service?.stop(),
      () => this.chp?.stop(),
      () => this.appsChp?.stop(),
      () => this.removeRule?.(),
      () => this.guard?.remove(),
      // Also kills whatever still runs as a test user (a server the service could not stop, sudo, the service).
      () => removeTestAccounts(),
      () => this.installed?.remove(),
      () => (this.stateDir ? removeServiceState(this.stateDir) : undefined),
    ]);
  }

  private async stopServers(): Promise<void> {
    if (!this.service || !this.stateDir) return;
    const active = this.servers().filter((s) =>
      ['pending', 'starting', 'running', 'stopping'].includes(s.state),
    );
    await Promise.allSettled(
      active.map((s) => this.api('DELETE', `/users/${s.user}/servers/${s.name}`)),
    );
  }
}
