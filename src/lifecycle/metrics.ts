import client from 'prom-client';
import type { ServerStore } from '../store/servers.js';

/**
 * Prometheus metrics of the service. Counters and histograms are fed by the lifecycle as
 * things happen; the per-state server gauge is read from SQLite at scrape time, so it can
 * never drift from the database.
 */
export class Metrics {
  readonly registry = new client.Registry();
  readonly spawnDuration: client.Histogram<'app'>;
  readonly spawnFailures: client.Counter<'reason'>;
  readonly reconcileDuration: client.Histogram;
  readonly routeFixes: client.Counter<'action'>;
  readonly culls: client.Counter<'reason'>;
  /** Every refusal at the authorize page, also those the audit trail records only once a minute. */
  readonly accessRefusals: client.Counter<'reason'>;

  constructor(store: ServerStore) {
    const registers = [this.registry];
    client.collectDefaultMetrics({ register: this.registry, prefix: 'hubapps_' });
    this.spawnDuration = new client.Histogram({
      name: 'hubapps_spawn_duration_seconds',
      help: 'From the start request until the server is ready and routed, by app',
      labelNames: ['app'],
      buckets: [0.1, 0.2, 0.3, 0.5, 1, 2, 5, 10, 30, 60, 120],
      registers,
    });
    this.spawnFailures = new client.Counter({
      name: 'hubapps_spawn_failures_total',
      help: 'Starts that failed, by reason code',
      labelNames: ['reason'],
      registers,
    });
    this.reconcileDuration = new client.Histogram({
      name: 'hubapps_reconcile_duration_seconds',
      help: 'Duration of one reconcile pass',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5],
      registers,
    });
    this.routeFixes = new client.Counter({
      name: 'hubapps_route_fixes_total',
      help: 'CHP routes reconcile added or removed',
      labelNames: ['action'],
      registers,
    });
    this.culls = new client.Counter({
      name: 'hubapps_culls_total',
      help: 'Servers stopped by the culler',
      labelNames: ['reason'],
      registers,
    });
    this.accessRefusals = new client.Counter({
      name: 'hubapps_access_refusals_total',
      help: 'Browsers refused at the authorize page, by reason (the audit trail keeps one row per user, server and reason a minute)',
      labelNames: ['reason'],
      registers,
    });
    new client.Gauge({
      name: 'hubapps_servers',
      help: 'Servers by state and app',
      labelNames: ['state', 'app'],
      registers,
      collect() {
        this.reset();
        for (const r of store.countByStateAndApp()) this.set({ state: r.state, app: r.app }, r.n);
      },
    });
  }
}
