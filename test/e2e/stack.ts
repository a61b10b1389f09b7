/**
 * The production set-up with JupyterHub in front, on loopback: test Unix accounts, the
 * proxy and the service installed root-owned, the sudoers rule, a CHP started on its own,
 * `hubapps serve` as hubapps-t-svc (sudo launcher) configured as a JupyterHub service, and
 * a real JupyterHub whose users are the test accounts (DummyAuthenticator).
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { stringify } from 'yaml';
import { startChp, type RunningChp } from '../../src/chp/chp-process.js';
import { isRoot, requirePrerequisite } from '../helpers/index.js';
import { freePort } from '../helpers/ports.js';
import { runAllSteps } from '../helpers/teardown.js';
import { installPortGuard, type InstalledGuard } from '../system/harness-guard.js';
import { createServiceState, hostDirsFor, removeServiceState } from '../system/harness-state.js';
import {
  TEST_GROUP,
  TEST_USERS,
  createTestAccounts,
  installCatalog,
  installProxy,
  installService,
  lockDown,
  removeTestAccounts,
  repoRoot,
  runOk,
  writeSudoers,
  type InstalledProxy,
} from '../system/harness.js';
import {
  startServiceProcess,
  type ServiceProcess,
  type ServiceProcessOptions,
} from '../system/service-process.js';
import { chromiumInstalled } from './browser.js';
import { jupyterhubInstalled, startHub, type HubOptions, type RunningHub } from './hub.js';

/**
 * HTML page naming the account it runs as and the visitor the proxy names (X-Hubapps-User); WebSocket messages come back as "echo:<message>".
 * A WebSocket to a path with /gone/ is refused with 404 on a connection kept open for
 * further requests, as Jupyter refuses a socket to a kernel that is gone.
 * A request with ?toss=NAME sets the cookie NAME for the whole apps domain (the cookie
 * tossing an app could try on its own host).
 */
const ECHO_APP = `const http = require('http');
const os = require('os');
const { WebSocketServer } = require('ws');
const esc = (s) => s.replace(/[<>&"]/g, (c) => '&#' + c.charCodeAt(0) + ';');
const server = http.createServer((req, res) => {
  const toss = new URL(req.url, 'http://x').searchParams.get('toss');
  if (toss) res.setHeader('set-cookie', toss + '=tossed; Domain=apps.localhost; Path=/');
  res.setHeader('content-type', 'text/html; charset=utf-8');
  res.end('<!doctype html><title>e2e echo</title><h1 id="who">echo app of ' + os.userInfo().username + '</h1><p id="url">' + esc(req.url) + '</p><p id="visitor">' + esc(req.headers['x-hubapps-user'] || '') + '</p>');
});
server.keepAliveTimeout = 60000;
const wss = new WebSocketServer({ noServer: true });
wss.on('connection', (ws) => ws.on('message', (m) => ws.send('echo:' + m)));
server.on('upgrade', (req, socket, head) => {
  if (!req.url.includes('/gone/')) return wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  // As Jupyter answers a vanished kernel's socket: 404, and the connection stays open for more requests.
  socket.write('HTTP/1.1 404 Not Found\\r\\ncontent-type: text/plain\\r\\ncontent-length: 16\\r\\n\\r\\nkernel not found');
  if (head.length > 0) socket.unshift(head);
  server.emit('connection', socket);
});
server.listen(Number(process.argv[2]), '127.0.0.1');
`;

/** A static-file server: {home}/www/PATH as it is, text/html for .html (what a user might publish, or an attacker plant). */
const WWW_APP = `const http = require('http');
const fs = require('fs');
const path = require('path');
const root = path.join(process.argv[3], 'www');
http.createServer((req, res) => {
  const file = path.join(root, path.normalize(decodeURIComponent(req.url.split('?')[0])).replace(/^(\\.\\.[\\/])+/, ''));
  fs.readFile(file, (err, data) => {
    if (err) { res.statusCode = 404; return res.end('not found'); }
    res.setHeader('content-type', file.endsWith('.html') ? 'text/html; charset=utf-8' : 'application/octet-stream');
    res.end(data);
  });
}).listen(Number(process.argv[2]), '127.0.0.1');
`;

/** JupyterHub-only user: may log in to the hub but is in no group that grants access to hubapps. */
export const HUB_ONLY_USER = 'eve';

/** The launcher page, built by `npm run build` into dist/ui (plain tsc does not build it). */
export function launcherBuilt(): boolean {
  return existsSync(join(repoRoot(), 'dist', 'ui', 'index.html'));
}
export const HUB_GROUP = 'hubapps-users';

/** What every HubStack suite needs on this machine; skips (or in CI fails) from a `before` hook. */
export function requireHubStackPrerequisites(ctx: Mocha.Context): void {
  requirePrerequisite(ctx, isRoot(), 'needs root (real sudo, test Unix accounts)');
  requirePrerequisite(
    ctx,
    jupyterhubInstalled(),
    "needs Debian's jupyterhub (/usr/bin/jupyterhub)",
  );
  requirePrerequisite(ctx, chromiumInstalled(), 'needs chromium (/usr/bin/chromium)');
  requirePrerequisite(ctx, launcherBuilt(), 'needs the launcher page in dist/ui (npm run build)');
}

/** Per-server origins in the tests: servers at http://SERVER--USER.apps.localhost:PORT, which Chromium resolves to loopback. */
export const APPS_DOMAIN = 'apps.localhost';

/** Where the stack put things, known only while it is being set up: for options that refer to them. */
export interface HubStackPaths {
  /** The service's secrets directory (0700, the service user's); `secrets` are written there. */
  secretsDir: string;
  /** Where the hub and CHP reach the service, e.g. http://127.0.0.1:PORT */
  serviceUrl: string;
}

export interface HubStackOptions {
  /** Start CHP with --default-target at the hub, as docs/install.md recommends. */
  chpDefaultTarget?: boolean;
  /** Extra lines for jupyterhub_config.py. */
  hubConfig?: string | ((paths: HubStackPaths) => string);
  /** More variables for JupyterHub's environment (e.g. PYTHONPATH for a spawner module). */
  hubEnv?: Record<string, string>;
  /** More secret files (name -> value) in the service's secrets directory. */
  secrets?: Record<string, string>;
  /** Per-server origins: a second, host-routing CHP for *.apps.localhost. */
  hostLayout?: boolean;
  /** The apps domain of the host layout instead of APPS_DOMAIN. */
  appsDomain?: string;
  /** The host name browsers use for the hub instead of 127.0.0.1: a *.localhost name, which Chromium resolves to loopback. */
  hubHost?: string;
  /** Extra keys for hubapps.yaml. */
  config?: Record<string, unknown>;
  /** Extra keys for the jupyterhub section of hubapps.yaml. */
  hubKeys?: Record<string, unknown> | ((paths: HubStackPaths) => Record<string, unknown>);
  /** Extra apps for the catalog, next to echo and www. */
  apps?: Record<string, object>;
  /** Install the port guard's helper and sudoers rule, and require the guard. */
  portGuard?: boolean;
}

export class HubStack {
  installed?: InstalledProxy;
  chp?: RunningChp;
  /** The apps CHP (hostLayout only). */
  appsChp?: RunningChp;
  service?: ServiceProcess;
  hub?: RunningHub;
  readonly password = randomBytes(12).toString('base64url');
  readonly observerToken = randomBytes(24).toString('base64url');
  readonly adminToken = randomBytes(24).toString('base64url');
  readonly chpToken = randomBytes(24).toString('base64url');
  /** The hubapps service's api_token in jupyterhub_config.py. */
  readonly serviceToken = randomBytes(24).toString('base64url');
  private stateDir = '';
  private hubDir = '';
  private hubOptions?: HubOptions;
  private servicePort = 0;
  private attempted = false;
  private removeRule?: () => Promise<void>;
  private guard?: InstalledGuard;
  private serviceOptions?: ServiceProcessOptions;
  private chpDefaultTarget?: string;

  constructor(private readonly options: HubStackOptions = {}) {}

  /** From an afterEach hook: when the test failed, print the tails of the service's and the hub's output. */
  reportFailure(ctx: Mocha.Context): void {
    if (ctx.currentTest?.state !== 'failed') return;
    process.stderr.write(
      `--- hubapps service (tail) ---\n${this.service?.output().slice(-6000)}\n--- jupyterhub (tail) ---\n${this.hub?.output().slice(-4000)}\n`,
    );
  }

  /** Where browsers go: CHP's public port, e.g. http://127.0.0.1:PORT */
  get publicUrl(): string {
    const url = new URL(this.chp!.proxyUrl);
    if (this.options.hubHost) url.hostname = this.options.hubHost;
    return url.origin;
  }

  get dbFile(): string {
    return join(this.stateDir, 'data', 'hubapps.sqlite');
  }

  async setUp(): Promise<void> {
    this.attempted = true;
    await createTestAccounts();
    this.installed = await installProxy();
    const cli = await installService(this.installed);
    await this.installUi();
    await this.installEchoApp();
    this.removeRule = await writeSudoers(TEST_USERS.svc, TEST_GROUP, this.installed.proxyPath);
    await this.writeState();
    if (this.options.portGuard)
      this.guard = await installPortGuard(this.installed, join(this.stateDir, 'hubapps.yaml'));
    if (this.options.hostLayout)
      this.appsChp = await startChp({ authToken: this.chpToken, hostRouting: true });
    const hubPort = await freePort();
    if (this.options.chpDefaultTarget) this.chpDefaultTarget = `http://127.0.0.1:${hubPort}`;
    this.chp = await startChp({
      authToken: this.chpToken,
      ...(this.chpDefaultTarget ? { defaultTarget: this.chpDefaultTarget } : {}),
    });
    this.servicePort = await freePort();
    const configFile = await this.writeServiceConfig(`http://127.0.0.1:${hubPort}/hub/api`);
    this.serviceOptions = {
      user: TEST_USERS.svc,
      cliPath: cli,
      configFile,
      healthUrl: `http://127.0.0.1:${this.servicePort}/services/hubapps/api/health`,
    };
    this.service = await startServiceProcess(this.serviceOptions);
    this.hubDir = await mkdtemp('/tmp/hubapps-t-hub-');
    this.hubOptions = {
      dir: this.hubDir,
      password: this.password,
      bindUrl: `${this.chp.proxyUrl}/`,
      hubBindUrl: `http://127.0.0.1:${hubPort}`,
      publicUrl: this.publicUrl,
      serviceUrl: `http://127.0.0.1:${this.servicePort}`,
      chpApiUrl: this.chp.apiUrl,
      chpTokenFile: join(this.stateDir, 'secrets', 'chp-token'),
      tokenFile: join(this.stateDir, 'secrets', 'hub-token'),
      group: HUB_GROUP,
      users: [
        TEST_USERS.alice,
        TEST_USERS.bob,
        TEST_USERS.carol,
        TEST_USERS.mallory,
        HUB_ONLY_USER,
      ],
      members: [TEST_USERS.alice, TEST_USERS.bob, TEST_USERS.carol, TEST_USERS.mallory],
      extraServices: [{ name: 'e2e-observer', token: this.observerToken, scopes: ['read:users'] }],
      ...(this.options.hubConfig ? { extraConfig: this.resolve(this.options.hubConfig) } : {}),
      ...(this.options.hubEnv ? { env: this.options.hubEnv } : {}),
    };
    this.hub = await startHub(this.hubOptions);
  }

  get paths(): HubStackPaths {
    return {
      secretsDir: join(this.stateDir, 'secrets'),
      serviceUrl: `http://127.0.0.1:${this.servicePort}`,
    };
  }

  private resolve<T>(option: T | ((paths: HubStackPaths) => T)): T {
    return typeof option === 'function'
      ? (option as (paths: HubStackPaths) => T)(this.paths)
      : option;
  }

  /** Stop JupyterHub, as an outage would; restartHub brings it back with its state (users, tokens). */
  async stopHub(): Promise<void> {
    await this.hub!.stop();
  }

  async restartHub(): Promise<void> {
    await this.hub!.stop();
    this.hub = await startHub(this.hubOptions!);
  }

  /** SIGKILL JupyterHub, as a crash would, and start it again with the same configuration and database. */
  async killAndRestartHub(): Promise<void> {
    await this.hub!.kill9();
    this.hub = await startHub(this.hubOptions!);
  }

  /** SIGKILL the service, as a crash or the OOM killer would, and start it again with the same configuration (after `meanwhile`, what happens while it is down). */
  async killAndRestartService(meanwhile?: () => Promise<void>): Promise<void> {
    await this.service!.kill9();
    await meanwhile?.();
    this.service = await startServiceProcess(this.serviceOptions!);
  }

  /** SIGKILL CHP, as a crash would, and start a new one on the same ports with the same settings (an empty routing table). */
  async killAndRestartChp(): Promise<void> {
    const { pid, port, apiPort } = this.chp!;
    process.kill(pid, 'SIGKILL');
    await this.chp!.stop();
    this.chp = await startChp({
      authToken: this.chpToken,
      port,
      apiPort,
      ...(this.chpDefaultTarget ? { defaultTarget: this.chpDefaultTarget } : {}),
    });
  }

  /** CHP's raw entry for `path` (its key form, no trailing slash), or undefined. */
  async chpRoute(path: string): Promise<Record<string, unknown> | undefined> {
    const res = await fetch(`${this.chp!.apiUrl}/api/routes`, {
      headers: { authorization: `token ${this.chpToken}` },
    });
    return ((await res.json()) as Record<string, Record<string, unknown>>)[path];
  }

  /** The launcher page next to the installed dist/src, where the service looks for it. */
  private async installUi(): Promise<void> {
    const ui = join(repoRoot(), 'dist', 'ui');
    const target = join(this.installed!.root, 'lib', 'dist', 'ui');
    await cp(ui, target, { recursive: true });
    await lockDown(target);
  }

  /** echo.cjs, www.cjs and the ws package, root-owned and world-readable, and the catalog entry that runs them. */
  private async installEchoApp(): Promise<void> {
    const dir = join(this.installed!.root, 'e2e');
    await mkdir(join(dir, 'node_modules'), { recursive: true });
    await runOk('cp', [
      '-R',
      '-T',
      join(repoRoot(), 'node_modules', 'ws'),
      join(dir, 'node_modules', 'ws'),
    ]);
    await writeFile(join(dir, 'echo.cjs'), ECHO_APP);
    await writeFile(join(dir, 'www.cjs'), WWW_APP);
    await lockDown(dir);
    await installCatalog(this.installed!.catalogDir, {
      echo: {
        title: 'Echo',
        command: [process.execPath, join(dir, 'echo.cjs'), '{port}'],
        ready: { timeout: 20 },
      },
      www: {
        title: 'Static files',
        command: [process.execPath, join(dir, 'www.cjs'), '{port}', '{home}'],
        ready: { timeout: 20 },
      },
      ...this.options.apps,
    });
  }

  /** data, logs and secrets in a 0700 directory of the service user; the secrets readable by it alone. */
  private async writeState(): Promise<void> {
    this.stateDir = await createServiceState({
      'chp-token': this.chpToken,
      'admin-token': this.adminToken,
      'hub-token': this.serviceToken,
      ...this.options.secrets,
    });
  }

  private async writeServiceConfig(hubApiUrl: string): Promise<string> {
    const secrets = join(this.stateDir, 'secrets');
    const file = join(this.stateDir, 'hubapps.yaml');
    const config = {
      public_url: this.publicUrl,
      listen: { host: '127.0.0.1', port: this.servicePort },
      data_dir: join(this.stateDir, 'data'),
      log_dir: join(this.stateDir, 'logs'),
      ...hostDirsFor(this.stateDir),
      catalog_dir: this.installed!.catalogDir,
      allowed_group: TEST_GROUP,
      launcher: 'sudo',
      proxy_command: this.installed!.proxyPath,
      chp: { api_url: this.chp!.apiUrl, auth_token: `file:${join(secrets, 'chp-token')}` },
      ...(this.appsChp
        ? {
            apps_domain: this.options.appsDomain ?? APPS_DOMAIN,
            apps_scheme: 'http',
            apps_port: this.appsChp.port,
            apps_chp: {
              api_url: this.appsChp.apiUrl,
              auth_token: `file:${join(secrets, 'chp-token')}`,
            },
          }
        : {}),
      admin_token: `file:${join(secrets, 'admin-token')}`,
      jupyterhub: {
        api_url: hubApiUrl,
        api_token: `file:${join(secrets, 'hub-token')}`,
        ...(this.options.hubKeys ? this.resolve(this.options.hubKeys) : {}),
      },
      admin_access: false,
      reconcile_interval: 1,
      stop_grace: 1,
      log_level: process.env.HUBAPPS_TEST_LOG ?? 'info',
      port_guard: this.guard
        ? { mode: 'required', command: this.guard.helperPath, table: this.guard.table }
        : { mode: 'off' },
      ...this.options.config,
    };
    await writeFile(file, stringify(config), { mode: 0o644 });
    return file;
  }

  /** Stop the apps CHP and start a fresh one (no routes) on the same ports, as its unit's Restart= would. */
  async restartAppsChp(): Promise<void> {
    const { port, apiPort } = this.appsChp!;
    await this.appsChp!.stop();
    this.appsChp = await startChp({ authToken: this.chpToken, port, apiPort, hostRouting: true });
  }

  /** The apps CHP's routing table, straight from its REST API. */
  async appsRoutes(): Promise<
    Record<string, { target: string; hubapps?: boolean; user?: string; server?: string }>
  > {
    const res = await fetch(`${this.appsChp!.apiUrl}/api/routes`, {
      headers: { authorization: `token ${this.chpToken}` },
    });
    return (await res.json()) as Record<
      string,
      { target: string; hubapps?: boolean; user?: string; server?: string }
    >;
  }

  /** Run SQL against the service's database as root (the test's way to age a session). */
  sql(statement: string, ...params: unknown[]): void {
    const db = new Database(this.dbFile, { fileMustExist: true });
    try {
      db.prepare(statement).run(...params);
    } finally {
      db.close();
    }
  }

  /** A row of the servers table. */
  server(user: string, name: string): { id: number; state: string; port: number } | undefined {
    const db = new Database(this.dbFile, { readonly: true, fileMustExist: true });
    try {
      return db
        .prepare('SELECT id, state, port FROM servers WHERE user = ? AND name = ?')
        .get(user, name) as { id: number; state: string; port: number } | undefined;
    } finally {
      db.close();
    }
  }

  /** Everything set up is taken down, each step even when an earlier one failed; the first problem is thrown. */
  async tearDown(): Promise<void> {
    if (!this.attempted) return;
    await runAllSteps([
      () => this.hub?.stop(),
      () => this.stopServers(),
      () => this.service?.stop(),
      () => this.chp?.stop(),
      () => this.appsChp?.stop(),
      () => this.removeRule?.(),
      () => this.guard?.remove(),
      () => removeTestAccounts(),
      () => this.installed?.remove(),
      () => (this.stateDir ? removeServiceState(this.stateDir) : undefined),
      () => (this.hubDir ? rm(this.hubDir, { recursive: true, force: true }) : undefined),
    ]);
  }

  private async stopServers(): Promise<void> {
    if (!this.service) return;
    const res = await fetch(`http://127.0.0.1:${this.servicePort}/services/hubapps/api/users`, {
      headers: { authorization: `token ${this.adminToken}` },
    });
    const { users } = (await res.json()) as {
      users: { name: string; servers: Record<string, { state: string }> }[];
    };
    const stops = users.flatMap((u) =>
      Object.entries(u.servers)
        .filter(([, s]) => ['pending', 'starting', 'running'].includes(s.state))
        .map(([name]) =>
          fetch(
            `http://127.0.0.1:${this.servicePort}/services/hubapps/api/users/${u.name}/servers/${name}`,
            {
              method: 'DELETE',
              headers: { authorization: `token ${this.adminToken}` },
            },
          ),
        ),
    );
    await Promise.allSettled(stops);
  }
}
