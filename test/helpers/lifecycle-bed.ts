import fs from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import { stringify } from 'yaml';
import { loadCatalog } from '../../src/catalog/load.js';
import { loadConfig } from '../../src/config/load.js';
import type { ConfigInput } from '../../src/config/schema.js';
import { Urls } from '../../src/config/urls.js';
import type { LifecycleDeps } from '../../src/lifecycle/deps.js';
import { ServerManager } from '../../src/lifecycle/manager.js';
import { Metrics } from '../../src/lifecycle/metrics.js';
import { openDb } from '../../src/store/db.js';
import { ServerStore, type ServerRow } from '../../src/store/servers.js';
import { LocalUserPolicy } from '../../src/users/policy.js';
import { FakeLauncher, MemoryRouteTable } from './fake-launcher.js';

/** The lifecycle on a fake launcher and an in-memory CHP: no process, no network. */
export interface Bed {
  manager: ServerManager;
  deps: LifecycleDeps;
  launcher: FakeLauncher;
  routes: MemoryRouteTable;
  row(name: string): ServerRow;
  route(name: string): string;
}

/** A bed in `dir` with one app, `fake` (ready.timeout 5 s), and alice's servers at hand. */
export function lifecycleBed(dir: string, config: Partial<ConfigInput> = {}): Bed {
  const catalogDir = path.join(dir, 'apps.d');
  fs.mkdirSync(catalogDir, { recursive: true });
  fs.writeFileSync(
    path.join(catalogDir, 'fake.yaml'),
    stringify({ title: 'Fake', command: ['/bin/true', '{port}'], ready: { timeout: 5 } }),
  );
  process.env.HUBAPPS_T_RACES_CHP = 'not-used';
  const cfg = loadConfig(undefined, {
    public_url: 'http://127.0.0.1:9',
    data_dir: path.join(dir, 'data'),
    log_dir: path.join(dir, 'logs'),
    catalog_dir: catalogDir,
    launcher: 'local',
    chp: { api_url: 'http://127.0.0.1:9', auth_token: 'env:HUBAPPS_T_RACES_CHP' },
    stop_grace: 1,
    limits: { servers_per_user: 0 },
    ...config,
  });
  fs.mkdirSync(cfg.data_dir, { recursive: true });
  fs.mkdirSync(cfg.log_dir, { recursive: true });
  const store = new ServerStore(openDb(path.join(cfg.data_dir, 'hubapps.sqlite')));
  const launcher = new FakeLauncher();
  const routes = new MemoryRouteTable(launcher.calls);
  const catalog = loadCatalog(catalogDir);
  const urls = new Urls(cfg, 'http://127.0.0.1:9');
  const deps: LifecycleDeps = {
    config: cfg,
    store,
    launcher,
    routes,
    serverRoutes: routes,
    catalog: () => catalog,
    users: new LocalUserPolicy(),
    urls,
    log: pino({ level: 'silent' }),
    metrics: new Metrics(store),
  };
  return {
    manager: new ServerManager(deps),
    deps,
    launcher,
    routes,
    row: (name) => store.get('alice', name)!,
    route: (name) => urls.serverRoute('alice', name),
  };
}
