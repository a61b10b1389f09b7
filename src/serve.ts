import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type Koa from 'koa';
import { pino, type Logger } from 'pino';
import { createApp } from './api/app.js';
import { AdminPolicy } from './auth/admins.js';
import { Authenticator } from './auth/authenticator.js';
import { HubClient, hubServiceName } from './auth/hub-client.js';
import { HubNames } from './auth/hub-names.js';
import { ClientRateLimit } from './limits/rate.js';
import { HubOAuth } from './auth/oauth.js';
import { loadCatalogLenient, type Catalog } from './catalog/load.js';
import { watchCatalog } from './catalog/watch.js';
import { ChpRouteTable } from './chp/chp-client.js';
import type { Config } from './config/schema.js';
import type { LifecycleDeps } from './lifecycle/deps.js';
import { ServerQueries } from './lifecycle/queries.js';
import { ServerManager } from './lifecycle/manager.js';
import { Metrics } from './lifecycle/metrics.js';
import { reconcile } from './lifecycle/reconcile.js';
import { HUB_TOKEN_DEFAULT_LIFE_S, HubServerTokens } from './lifecycle/hub-tokens.js';
import { HubTokenStore } from './store/hub-tokens.js';
import { Urls } from './config/urls.js';
import { buildLauncher } from './launchers/build.js';
import { auditOomKills, openHostLimits } from './limits/host-limits.js';
import { forwardEntries, ForwardGuard } from './limits/forward-guard.js';
import { guardEntries, openPortGuard } from './limits/port-guard.js';
import { listenersNow } from './procfs/listeners.js';
import { proxyOnTcp } from './lifecycle/launches.js';
import { ShareStore } from './store/shares.js';
import { PortStore } from './store/server-ports.js';
import { AuthStore } from './store/auth.js';
import { openDb } from './store/db.js';
import { ServerStore } from './store/servers.js';
import { LocalUserDirectory } from './users/local.js';
import { NssUserDirectory } from './users/nss.js';
import { LocalUserPolicy, UserPolicy } from './users/policy.js';
import { VERSION } from './version.js';

export interface RunningService {
  port: number;
  /** The Koa app (tests read its routes to check docs/openapi.yaml). */
  app: Koa;
  urls: Urls;
  deps: LifecycleDeps;
  manager: ServerManager;
  /** Stop serving. Servers keep running: they belong to their users, not to this process. */
  close(): Promise<void>;
}

/**
 * `hubapps serve`: the wiring. Builds each pluggable part from the config, re-adopts the
 * servers a previous instance left running, then serves the API and reconciles on a timer.
 */
export async function serve(
  config: Config,
  log: Logger = pino({ level: config.log_level }),
): Promise<RunningService> {
  fs.mkdirSync(config.data_dir, { recursive: true, mode: 0o700 });
  fs.mkdirSync(config.log_dir, { recursive: true, mode: 0o750 });
  const db = openDb(path.join(config.data_dir, 'hubapps.sqlite'));
  const store = new ServerStore(db);

  let catalog = loadCatalogFrom(config.catalog_dir, log);
  const watcher = watchCatalog(config.catalog_dir, (c, errors) => {
    catalog = c;
    for (const e of errors) log.error(e.message);
    log.info({ apps: c.list().map((a) => a.name) }, 'catalog reloaded');
  });

  const directory = config.launcher === 'sudo' ? new NssUserDirectory() : new LocalUserDirectory();
  const limits = openHostLimits(config.server_limits, (name) => catalog.get(name), log);
  const guard = openPortGuard(config, log);
  const launcher = buildLauncher(config, directory, (name) => catalog.get(name), limits, guard);
  const users =
    config.launcher === 'sudo'
      ? new UserPolicy(directory, { allowedGroup: config.allowed_group, minUid: config.min_uid })
      : new LocalUserPolicy(directory);
  const routes = new ChpRouteTable({
    apiUrl: config.chp.api_url,
    authToken: config.chp.auth_token,
  });
  const serverRoutes =
    config.apps_domain === undefined
      ? routes
      : new ChpRouteTable({
          apiUrl: config.apps_chp.api_url,
          authToken: config.apps_chp.auth_token,
          name: 'the apps CHP',
        });

  const ports = new PortStore(db);
  const uidOf = async (user: string) => (await directory.lookup(user)).uid;
  const forwards = guard
    ? new ForwardGuard({
        guard,
        wanted: () => forwardEntries(ports.running(), uidOf),
        listeners: async () => listenersNow(),
        uidOf,
        log,
      })
    : undefined;
  // Before the API takes requests: a start's allow must not be wiped by this rebuild.
  if (guard)
    await guard.sync(
      await guardEntries(store.active(), uidOf, (row) => proxyOnTcp(launcher, row)),
      (await forwards?.initial()) ?? [],
    );
  forwards?.start();

  const server = http.createServer();
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.listen.port, config.listen.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const urls = new Urls(config, `http://${config.listen.host}:${port}`);
  const metrics = new Metrics(store);
  if (limits) auditOomKills(limits, store, metrics.registry);
  const deps: LifecycleDeps = {
    config,
    store,
    ports,
    ...(forwards ? { forwards } : {}),
    launcher,
    routes,
    serverRoutes,
    catalog: () => catalog,
    users,
    urls,
    log,
    metrics,
  };
  const manager = new ServerManager(deps);
  const authStore = new AuthStore(db);
  const admins = new AdminPolicy(config, directory);
  const hubConfig = config.jupyterhub;
  const hub =
    hubConfig.api_url && hubConfig.api_token
      ? new HubClient(
          hubConfig.api_url,
          hubConfig.api_token,
          hubConfig.token_cache_seconds,
          hubServiceName(hubConfig.client_id),
          new ClientRateLimit(
            config.limits.unknown_tokens_per_minute,
            config.limits.unknown_tokens_per_minute_total,
            'unknown tokens to check with JupyterHub',
            'limits.unknown_tokens_per_minute',
            'limits.unknown_tokens_per_minute_total',
          ),
          new HubNames(hubConfig),
        )
      : undefined;
  const oauth =
    hubConfig.api_url && hubConfig.api_token
      ? new HubOAuth(
          { ...hubConfig, api_url: hubConfig.api_url, api_token: hubConfig.api_token },
          urls.publicOrigin,
          `${urls.launcherUrl()}oauth_callback`,
        )
      : undefined;
  const auth = new Authenticator(config, authStore, admins, users, hub, urls.servicePrefix(), urls);
  if (hub && hubConfig.forward_activity)
    deps.activitySink = (user, at, hubServer) => hub.postActivity(user, at, hubServer);
  if (hub && hubConfig.server_tokens_from_hub)
    deps.hubTokens = new HubServerTokens(
      hub,
      new HubTokenStore(db),
      log,
      config.culler.max_age || HUB_TOKEN_DEFAULT_LIFE_S,
    );
  const app = createApp(
    {
      ...deps,
      manager,
      queries: new ServerQueries(deps),
      auth,
      codes: authStore,
      sessions: authStore,
      tokens: authStore,
      shares: new ShareStore(db, store),
      ports,
      admins,
      hub,
      version: VERSION,
    },
    oauth,
  );
  server.on('request', app.callback());

  const adoption = await reconcile(deps, manager, true);
  auth.serversSettled();
  log.info({ ...adoption, port, launcher: launcher.kind }, 'hubapps serving; servers re-adopted');

  let passing = false;
  const timer = setInterval(() => {
    if (passing) return;
    passing = true;
    authStore.prune();
    store.events.prune(config.events_max_age_days);
    reconcile(deps, manager)
      .then((r) =>
        r.routesAdded || r.routesRemoved || r.markedGone
          ? log.info(r, 'reconcile fixed things')
          : log.debug(r, 'reconcile'),
      )
      .catch((err: unknown) => log.error({ err }, 'reconcile failed'))
      .finally(() => (passing = false));
  }, config.reconcile_interval * 1000);
  timer.unref();

  return {
    port,
    app,
    urls,
    deps,
    manager,
    async close() {
      clearInterval(timer);
      forwards?.stop();
      watcher.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      manager.close();
      db.close();
    },
  };
}

function loadCatalogFrom(dir: string, log: Logger): Catalog {
  const { catalog, errors } = loadCatalogLenient(dir);
  for (const e of errors) log.error(e.message);
  return catalog;
}
