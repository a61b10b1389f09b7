import { appendFileSync } from 'node:fs';
import { HubappsError } from '../errors.js';
import {
  PROTOCOL_VERSION,
  PROXY_EXIT,
  type SlurmJobRequest,
  type SlurmJobStatus,
  type SlurmSubmitted,
  type StartRequest,
} from '../protocol/wire.js';
import type {
  Announcement,
  Launch,
  Launcher,
  LaunchHandle,
  ProbeResult,
  ServerRef,
  StopOptions,
} from './launcher.js';
import { HandleLaunch, type HandleOps } from './launch.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitUntil } from '../procfs/processes.js';
import { fetchHealth, requestShutdown, type ProxyTarget } from './proxy-client.js';
import { proxyEnvironment } from './proxy-command.js';
import { runProxyOp } from './run-proxy.js';
import { explainEarlyExit } from './start-failure.js';
import { describeEnd, describeLive, jobEnded, jobQueued } from './slurm-states.js';
import { isThisHost } from './this-host.js';

export interface SlurmLauncherOptions {
  /** How to run hubapps-proxy as `user` (sudo in production). */
  command: (user: string) => { file: string; args: string[] };
  via: 'sudo' | 'local';
  /** The uid a user's proxy runs as, for the listener check when a job's node is this host. */
  uidOf: (user: string) => Promise<number>;
  /** The service URL proxies on compute nodes use; unset: the one in the start request. */
  serviceUrl?: string;
  pendingTimeoutS: number;
  statusCacheMs: number;
  allowedGroup: string;
}

/** The saved state: the job and, once announced, where its proxy listens. */
type JobState = {
  jobId: string | null;
  host: string | null;
  nodePort: number | null;
  submittedAt: number;
  server: string;
  log: string | null;
  memMb: number | null;
  timeMinutes: number | null;
};

type JobHandle = LaunchHandle<JobState>;

const HOST = /^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$/;

/**
 * Runs each server as a Slurm job. The service never talks to Slurm itself: it runs the
 * proxy as the user (the one sudo rule), which submits, queries and cancels the job. The
 * job's proxy announces its node and port; the service checks it answers with the secret.
 * A job's end is seen by probe, on the next reconcile pass: there is no local process whose
 * exit it could report (no onExit, no exit status).
 */
export class SlurmLauncher implements Launcher, HandleOps<JobState> {
  readonly kind = 'slurm' as const;
  private readonly cache = new Map<string, { at: number; status: Promise<SlurmJobStatus> }>();
  private readonly shownEnd = new Set<string>();
  private readonly live = new Map<string, string>();

  constructor(private readonly opts: SlurmLauncherOptions) {}

  async start(spec: StartRequest, logFile: string): Promise<Launch> {
    const start = { ...spec, serviceUrl: this.opts.serviceUrl ?? spec.serviceUrl };
    const r = await runProxyOp(this.opts.command(spec.server.user), proxyEnvironment(), {
      op: 'slurm-submit',
      version: PROTOCOL_VERSION,
      start,
    });
    appendLog(logFile, r.stderr);
    if (r.code !== 0) throw this.submitFailure(r, spec.server.user);
    const submitted = JSON.parse(r.stdout) as SlurmSubmitted;
    const state: JobState = {
      jobId: submitted.jobId,
      host: null,
      nodePort: null,
      submittedAt: Date.now(),
      server: spec.server.name,
      log: logFile,
      memMb: submitted.memMb,
      timeMinutes: submitted.timeMinutes,
    };
    appendLog(
      logFile,
      `hubapps: submitted as Slurm job ${submitted.jobId}; its output goes to ${submitted.output}\n`,
    );
    return new JobLaunch(this, {
      serverId: spec.server.id,
      user: spec.server.user,
      port: spec.port,
      secret: spec.secret,
      kind: this.kind,
      pid: null,
      state,
    });
  }

  private submitFailure(
    r: { code: number | null; signal: NodeJS.Signals | null; stderr: string },
    user: string,
  ): HubappsError {
    const lines = r.stderr.trim().split('\n');
    if (r.code === PROXY_EXIT.jobRejected || r.code === PROXY_EXIT.badRequest) {
      const said = lines.at(-1)?.replace(/^\S+ hubapps-proxy: /, '') ?? 'no reason given';
      return new HubappsError('job_rejected', `Slurm did not accept the job: ${said}`, {
        expose: true,
      });
    }
    const f = explainEarlyExit(
      this.opts.via,
      { code: r.code, signal: r.signal },
      lines,
      user,
      this.opts.allowedGroup,
    );
    return new HubappsError(f.code, f.reason, { expose: true });
  }

  restore(ref: ServerRef, saved: string | null): Launch {
    const s = (saved ? JSON.parse(saved) : {}) as Partial<JobState>;
    const state: JobState = {
      jobId: s.jobId ?? null,
      host: s.host ?? null,
      nodePort: s.nodePort ?? null,
      submittedAt: s.submittedAt ?? 0,
      server: s.server ?? '',
      log: s.log ?? null,
      memMb: s.memMb ?? null,
      timeMinutes: s.timeMinutes ?? null,
    };
    return new JobLaunch(this, { ...ref, kind: this.kind, pid: null, state });
  }

  save(handle: JobHandle): string {
    return JSON.stringify(handle.state);
  }

  /** Take in the address a job's proxy announced, once Slurm and the proxy itself confirm it (JobLaunch's announce). */
  async announce(handle: JobHandle, where: Announcement): Promise<void> {
    const s = handle.state;
    if (!s.jobId || where.runId !== s.jobId) {
      throw new HubappsError(
        'announce_mismatch',
        `server ${handle.serverId} runs as job ${s.jobId ?? '(none)'}, not ${where.runId || '(none)'}`,
      );
    }
    if (
      !HOST.test(where.host) ||
      !Number.isInteger(where.port) ||
      where.port < 1 ||
      where.port > 65535
    ) {
      throw new HubappsError(
        'announce_invalid',
        'host must be a host name or address and port a TCP port',
      );
    }
    // Slurm, asked as the user, must place this job on the announced node: the announcer then runs inside the job.
    const status = await this.status(handle, 0);
    if (status.state !== 'RUNNING' || status.node !== where.host) {
      throw new HubappsError(
        'announce_mismatch',
        `Slurm reports job ${s.jobId} as ${status.state} on ${status.node || '(no node)'}, not running on ${where.host}`,
      );
    }
    const health = await fetchHealth(
      await this.targetAt(handle, where.host, where.port),
      0,
      undefined,
      3000,
    );
    if (!health.ok || health.body.serverId !== handle.serverId) {
      throw new HubappsError(
        'announce_unverified',
        `nothing at ${where.host}:${where.port} answers as server ${handle.serverId} (${health.ok ? 'another server' : health.error})`,
      );
    }
    Object.assign(handle.state, { host: where.host, nodePort: where.port });
    appendLog(
      s.log,
      `hubapps: job ${s.jobId} runs on ${where.host}, its proxy listens on port ${where.port}\n`,
    );
  }

  /**
   * The job's node and port once announced. A node that is this host (a single-node
   * cluster) gets the listener-owner check as a host proxy does; on another node only the
   * proof of the secret counts, after announce matched the node to the job through squeue.
   */
  async target(handle: JobHandle): Promise<ProxyTarget | null> {
    const s = handle.state;
    return s.host && s.nodePort ? this.targetAt(handle, s.host, s.nodePort) : null;
  }

  private async targetAt(handle: JobHandle, host: string, port: number): Promise<ProxyTarget> {
    const local = await isThisHost(host);
    const uid = local ? await this.opts.uidOf(handle.user).catch(() => -1) : -1;
    return { host, port, secret: handle.secret, uid, listener: local ? 'local' : 'remote' };
  }

  routeTarget(handle: JobHandle): string | null {
    const s = handle.state;
    return s.host && s.nodePort ? `http://${s.host}:${s.nodePort}` : null;
  }

  async probe(handle: JobHandle, since = 0): Promise<ProbeResult> {
    const s = handle.state;
    if (!s.jobId) return { alive: false, answering: false, launched: false };
    const target = await this.target(handle);
    if (target) {
      const health = await fetchHealth(target, since);
      if (health.ok && health.body.serverId === handle.serverId)
        return { alive: true, answering: true, launched: true, report: health.body };
    }
    const status = await this.status(handle, this.opts.statusCacheMs);
    if (jobEnded(status)) {
      this.showEnd(s, status);
      return {
        alive: false,
        answering: false,
        launched: false,
        ended: describeEnd(status, {
          memMb: s.memMb ?? undefined,
          timeMinutes: s.timeMinutes ?? undefined,
        }),
      };
    }
    if (
      jobQueued(status) &&
      s.submittedAt &&
      Date.now() - s.submittedAt > this.opts.pendingTimeoutS * 1000
    ) {
      await this.cancel(handle);
      const reason = `Slurm job ${s.jobId} waited in the queue for more than ${this.opts.pendingTimeoutS} s (${status.reason}) and was cancelled: try fewer resources or later`;
      return {
        alive: false,
        answering: false,
        launched: false,
        ended: { code: 'queue_timeout', reason },
      };
    }
    return {
      alive: true,
      answering: false,
      launched: true,
      waiting: jobQueued(status),
      status: this.liveText(s.jobId, status),
    };
  }

  /** One text per job and state, so the progress stream gets one line per change rather than per poll. */
  private liveText(jobId: string, status: SlurmJobStatus): string {
    const key = `${jobId}:${status.state}:${status.reason}:${status.node}`;
    const prev = this.live.get(jobId);
    if (prev?.startsWith(`${key}\n`)) return prev.slice(key.length + 1);
    const text = describeLive(status);
    this.live.set(jobId, `${key}\n${text}`);
    return text;
  }

  private showEnd(s: JobState, status: SlurmJobStatus): void {
    if (this.shownEnd.has(status.jobId)) return;
    this.shownEnd.add(status.jobId);
    this.live.delete(status.jobId);
    const out = status.output.length
      ? `\n${status.output.map((l) => `  ${l}`).join('\n')}`
      : ' (empty)';
    appendLog(
      s.log,
      `hubapps: job ${status.jobId} ended as ${status.state}; the end of its output:${out}\n`,
    );
  }

  async stop(handle: JobHandle, opts: StopOptions = {}): Promise<void> {
    const s = handle.state;
    if (!s.jobId) return;
    const ended = async () => jobEnded(await this.status(handle, 0));
    const target = await this.target(handle);
    if (target) {
      const asked = await requestShutdown(target);
      if (asked.ok && (await waitUntil(ended, (opts.graceMs ?? 5000) + 5000, 300)))
        return void (await this.probe(handle));
    }
    await this.cancel(handle);
    if (await waitUntil(ended, 20_000, 300)) return void (await this.probe(handle));
    throw new HubappsError(
      'stop_failed',
      `Slurm job ${s.jobId} of ${handle.user} did not end after scancel; see squeue -j ${s.jobId}`,
    );
  }

  async forceKill(handle: JobHandle): Promise<void> {
    if (handle.state.jobId) await this.cancel(handle);
  }

  private async cancel(handle: JobHandle): Promise<void> {
    await this.jobOp(handle, 'slurm-cancel');
  }

  private status(handle: JobHandle, maxAgeMs: number): Promise<SlurmJobStatus> {
    const jobId = handle.state.jobId!;
    const hit = this.cache.get(jobId);
    if (hit && Date.now() - hit.at <= maxAgeMs) return hit.status;
    const status = this.jobOp(handle, 'slurm-status');
    this.cache.set(jobId, { at: Date.now(), status });
    status.catch(() => this.cache.delete(jobId));
    return status;
  }

  private async jobOp(handle: JobHandle, op: SlurmJobRequest['op']): Promise<SlurmJobStatus> {
    const s = handle.state;
    const req: SlurmJobRequest = {
      op,
      version: PROTOCOL_VERSION,
      jobId: s.jobId!,
      server: { id: handle.serverId, name: s.server },
    };
    for (let attempt = 1; ; attempt++) {
      const r = await runProxyOp(this.opts.command(handle.user), proxyEnvironment(), req);
      if (r.code === 0) {
        const status = JSON.parse(r.stdout) as SlurmJobStatus;
        this.cache.set(status.jobId, { at: Date.now(), status: Promise.resolve(status) });
        return status;
      }
      if (attempt >= 2)
        throw new HubappsError(
          'slurm_query_failed',
          `asking Slurm about job ${s.jobId} failed: ${r.stderr.trim().split('\n').at(-1) ?? `exit ${r.code}`}`,
        );
      await sleep(200);
    }
  }
}

/** A Slurm job's launch: the one kind that takes in an announced address. */
class JobLaunch extends HandleLaunch<JobState> {
  constructor(
    private readonly slurm: SlurmLauncher,
    handle: JobHandle,
  ) {
    super(slurm, handle);
  }

  announce(where: Announcement): Promise<void> {
    return this.slurm.announce(this.handle, where);
  }
}

/** The server log is the service's; a write that fails only loses a line. */
function appendLog(file: string | null, text: string): void {
  if (!file || !text) return;
  try {
    appendFileSync(file, text, { mode: 0o640 });
  } catch {
    return;
  }
}
