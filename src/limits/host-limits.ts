import fs from 'node:fs';
import type { Logger } from 'pino';
import client from 'prom-client';
import { HubappsError } from '../errors.js';
import type { StartRequest } from '../protocol/wire.js';
import type { ServerStore } from '../store/servers.js';
import {
  CgroupTree,
  claimV2Root,
  detectLayout,
  layoutProblem,
  V2_SERVICE_LEAF,
  type CgroupLayout,
} from './cgroup-tree.js';
import {
  formatBytes,
  serverResources,
  type HostLimitsApp,
  type ServerLimitsConfig,
} from './resources.js';

/** What the audit trail and the metric learn when the kernel killed in a server's cgroup. */
export interface OomSink {
  serverId: number;
  limit: string;
}

/**
 * The service's per-server limits on this host: finds the cgroup root once at start-up,
 * gives each starting server its cgroup, and turns a kill by the memory limit into the
 * reason the user reads.
 */
export class HostLimits {
  private sink: (e: OomSink) => void = () => undefined;
  /** Why servers the kernel killed ended, reported once: the exit event and later probes all ask. */
  private readonly reported = new Map<number, string>();

  constructor(
    readonly cfg: ServerLimitsConfig,
    readonly tree: CgroupTree,
    private readonly app: (name: string) => { name: string; limits?: HostLimitsApp } | undefined,
    private readonly log: Logger,
  ) {
    const problem = layoutProblem(tree.layout);
    if (problem) {
      const text = `per-server limits: ${problem}`;
      if (cfg.cgroups === 'required') log.error(`${text}; every start fails until it is fixed`);
      else
        log.warn(
          `${text}; servers start WITHOUT memory, CPU and process limits (server_limits.cgroups: auto)`,
        );
    } else {
      log.info({ cgroup: tree.layout }, 'per-server limits: each server gets its own cgroup');
    }
  }

  /** Feed the audit trail and the metrics; called once the store exists. */
  report(sink: (e: OomSink) => void): void {
    this.sink = sink;
  }

  /**
   * Make the starting server's cgroup; false when it runs without one (auto, and the root
   * is unusable). Under `required` a server never runs unlimited: the start fails instead.
   */
  prepare(spec: StartRequest): boolean {
    const id = spec.server.id;
    this.reported.delete(id);
    // Asked at every start: an admin who runs `hubapps cgroup-setup` later needs no restart.
    let why = layoutProblem(this.tree.layout);
    if (!why) {
      const r =
        spec.resources ??
        serverResources(this.cfg, this.app(spec.app) ?? { name: spec.app }, spec.options);
      try {
        this.tree.create(id, r);
        return true;
      } catch (err) {
        why = `could not create the server's cgroup: ${(err as Error).message}`;
        this.tree.remove(id);
      }
    }
    if (this.cfg.cgroups === 'required') {
      throw new HubappsError(
        'cgroup_unavailable',
        `this host cannot limit servers right now (${why}); tell your admin to run 'hubapps doctor'`,
        { expose: true },
      );
    }
    this.log.warn({ server: id, why }, 'server starts without limits');
    return false;
  }

  /**
   * The server's processes are gone: why, when the kernel killed in its cgroup, and the
   * cgroup removed. Only the memory controller kills; CPU and pids limits slow or refuse.
   */
  ended(serverId: number): string | null {
    const rec = this.tree.oomRecord(serverId);
    this.tree.remove(serverId);
    const known = this.reported.get(serverId);
    if (known || !rec || rec.kills === 0) return known ?? null;
    const reason = oomReason(rec.limitBytes);
    this.reported.set(serverId, reason);
    try {
      this.sink({ serverId, limit: formatBytes(rec.limitBytes) });
    } catch (err) {
      // An exit event can arrive while the service is closing; the reason still reaches the row.
      this.log.error(
        { err, server: serverId },
        'the out-of-memory kill was not recorded in the audit trail',
      );
    }
    return reason;
  }

  /** The same reason while the server's proxy still lingers after its app was killed; the report waits for `ended`. */
  killedReason(serverId: number): string | null {
    const rec = this.tree.oomRecord(serverId);
    return rec && rec.kills > 0 ? oomReason(rec.limitBytes) : null;
  }

  /** The command as it must run: it enters the server's cgroup itself, then execs, so sudo, the proxy and the app all start inside. */
  enter(serverId: number, cmd: { file: string; args: string[] }): { file: string; args: string[] } {
    return {
      file: '/bin/sh',
      args: [
        '-c',
        ENTER,
        'hubapps-cgroup-enter',
        ...this.tree.procsFiles(serverId),
        '--',
        cmd.file,
        ...cmd.args,
      ],
    };
  }
}

const oomReason = (limitBytes: number) =>
  `stopped: out of memory (limit ${formatBytes(limitBytes)})`;

/** Writes its own pid into each cgroup.procs named before `--`, then becomes the command after it; exit 126 (and sh's message in the log) if one cannot be written. */
const ENTER = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 126; shift; done; shift; exec "$@"';

/**
 * Find this host's cgroup root. On v2 the service first moves itself into its leaf (once
 * per service start; a restart finds itself there already), so its delegated cgroup can
 * hold the servers' cgroups beside it.
 */
export function openHostLimits(
  cfg: ServerLimitsConfig,
  app: (name: string) => { name: string; limits?: HostLimitsApp } | undefined,
  log: Logger,
  fsRoot = '/sys/fs/cgroup',
): HostLimits | null {
  if (cfg.cgroups === 'off') return null;
  const self = readSelf();
  const layout: CgroupLayout = detectLayout(fsRoot, cfg.cgroup_name, self);
  // Only a delegated service's own cgroup is claimed: systemd hands a .service cgroup to a
  // non-root User= only with Delegate=yes. A login session's scope (the demo) or root's test
  // runner is left where it is.
  if (
    layout.version === 2 &&
    process.getuid?.() !== 0 &&
    /^0::.*\.service$/m.test(self) &&
    writable(layout.root)
  ) {
    try {
      claimV2Root(layout.root, process.pid);
    } catch (err) {
      log.warn(
        { err: (err as Error).message, root: layout.root },
        `per-server limits: could not move the service into ${V2_SERVICE_LEAF}/ of its cgroup`,
      );
    }
  }
  return new HostLimits(cfg, new CgroupTree(layout), app, log);
}

function readSelf(): string {
  try {
    return fs.readFileSync('/proc/self/cgroup', 'utf8');
  } catch {
    return '';
  }
}

/** Without Delegate=yes the service's cgroup belongs to root: nothing to claim, and layoutProblem says why. */
function writable(dir: string): boolean {
  try {
    fs.accessSync(dir, fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** A kill at the memory limit goes into the audit trail and hubapps_server_oom_kills_total{app}. */
export function auditOomKills(
  limits: HostLimits,
  store: ServerStore,
  registry: client.Registry,
): void {
  const kills = new client.Counter({
    name: 'hubapps_server_oom_kills_total',
    help: 'Servers ended by their memory limit (cgroup OOM kill), by app',
    labelNames: ['app'],
    registers: [registry],
  });
  limits.report(({ serverId, limit }) => {
    const row = store.byId(serverId);
    store.audit(
      row ?? null,
      `the kernel killed the app at the server's memory limit (${limit})`,
      'kernel',
    );
    kills.inc({ app: row?.app ?? 'unknown' });
  });
}
