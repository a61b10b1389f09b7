/**
 * The 'start' op from beginning to end: read the app from the catalog, listen, start the
 * app, wait until it is ready, serve, and stop everything (shutdown request, signal, app
 * exit, timeout). The proxy's exit code tells the service how it ended.
 */
import type { Server, IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { userInfo } from 'node:os';
import { HubappsError } from '../errors.js';
import type { CatalogApp } from '../catalog/types.js';
import { PROXY_EXIT, type StartRequest } from '../protocol/wire.js';
import { prepareLaunch } from './prepare.js';
import { Activity } from './http/activity.js';
import { ProxyStatus } from './status.js';
import { accessParts } from './access/access-wiring.js';
import { OriginPolicy } from './http/origin.js';
import { portParts } from './ports/wiring.js';
import { createListener, listenLoopback, listenSocket } from './http/http-server.js';
import { listenOnNode } from './node/node-mode.js';
import type { LaunchPlan } from './app/launch-plan.js';
import { AppProcess, describeExit, type AppExit, type RunningApp } from './app/app-process.js';
import { startBuiltin } from './app/builtin.js';
import type { Forwarder } from './http/forward.js';
import { describeTarget, waitReady } from './app/readiness.js';
import { removeRuntimeDir } from './app/runtime-dir.js';
import { refuseUpgrade, sendPage } from './http/pages.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeError, log, useLogBudget } from './log.js';
import { LogBudget } from './log-budget.js';

/** How long health keeps answering after the app is gone, so the service can read why. */
const LINGER_MS = 1500;

/**
 * Internal to the proxy process: ends it with `exitCode` (PROXY_EXIT), which the service reads
 * as the start's failure (launchers/start-failure.ts). Never reaches a client as itself.
 */
export class ProxyExit extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Listens first, so that the service's first health poll is answered as early as possible;
 * the catalog read and the forwarding core's modules, which only the app needs, load after.
 */
export async function runStart(request: StartRequest, catalogDir: string): Promise<void> {
  // stdout and stderr are the same per-server log file: one budget for the app's output and the proxy's lines.
  const output = new LogBudget(process.stderr.fd, request.logMaxBytes);
  useLogBudget(output);
  const supervisor = new Supervisor(request, output);
  await supervisor.listen();
  const me = userInfo();
  const prepared = await prepareLaunch(catalogDir, request, {
    username: me.username,
    homedir: me.homedir,
    shell: me.shell,
  });
  if (!prepared.ok) {
    supervisor.close();
    throw new ProxyExit(
      prepared.code === 'app_not_in_catalog' ? PROXY_EXIT.appNotInCatalog : 1,
      prepared.message,
    );
  }
  await supervisor.launch(prepared.app, prepared.plan, async () => {
    const { Forwarder } = await import('./http/forward.js');
    return Forwarder;
  });
}

class Supervisor {
  private readonly activity = new Activity();
  private readonly status: ProxyStatus;
  private readonly server: Server;
  private readonly launcher: string;
  private readonly abort = new AbortController();
  private forwarder: Forwarder | null = null;
  private forwarderClass: typeof Forwarder | null = null;
  private app: RunningApp | null = null;
  private ending = false;
  /**
   * The service asked for the stop, after removing the route: the socket file may go. Any
   * other end (the app exited, a signal) keeps it until the service has removed the route,
   * because a freed path can be bound by anyone, and CHP would send the owner's requests there.
   */
  private routeGone = false;
  /** Known once launch() runs; end() may come before (a signal while the catalog is read). */
  private catalogApp!: CatalogApp;
  private plan: LaunchPlan | undefined;

  constructor(
    private readonly req: StartRequest,
    private readonly output: LogBudget,
  ) {
    this.status = new ProxyStatus(req.server.id, this.activity);
    const access = accessParts(req);
    this.launcher = access.home;
    const origins = new OriginPolicy(req.publicOrigin, req.allowedOrigins);
    this.server = createListener({
      request: req,
      status: this.status,
      access: access.gate,
      signIn: access.signIn,
      origins,
      activity: this.activity,
      forwarder: () => this.forwarder,
      onShutdown: (routeRemoved) => {
        this.routeGone = routeRemoved;
        void this.shutdown('shutdown requested');
      },
      launcher: this.launcher,
      ...(access.service === null
        ? {}
        : portParts(req, {
            access: access.service,
            origins,
            activity: this.activity,
            status: this.status,
            forwarderClass: () => this.forwarderClass,
            launcher: this.launcher,
          })),
    });
  }

  async listen(): Promise<void> {
    let where = this.req.socket ?? `127.0.0.1:${this.req.port}`;
    try {
      if (this.req.node) where = await listenOnNode(this.server, this.req);
      else if (this.req.socket) await listenSocket(this.server, this.req.socket);
      else await listenLoopback(this.server, this.req.port);
    } catch (err) {
      const inUse = err instanceof HubappsError && err.code === 'port_in_use';
      throw new ProxyExit(inUse ? PROXY_EXIT.portInUse : 1, (err as Error).message);
    }
    for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const)
      process.on(sig, () => void this.shutdown(`${sig} received`));
    process.on('uncaughtException', (err) => {
      log(`internal error: ${describeError(err)}`);
      void this.end(`internal error in hubapps-proxy: ${err.message}`, 1);
    });
    log(`listening on ${where} for ${this.req.prefix}`);
  }

  /** The catalog could not be read: nothing was started, the caller exits. */
  close(): void {
    this.server.closeAllConnections();
    this.server.close();
  }

  /**
   * Starts the app, then loads the forwarding core (undici, some 30-50 ms of module code)
   * while the app starts up in its own process: the app's start-up hides that time.
   * Readiness waits for both.
   */
  async launch(
    catalogApp: CatalogApp,
    plan: LaunchPlan,
    loadForwarder: () => Promise<typeof Forwarder>,
  ): Promise<void> {
    if (this.ending) return;
    this.catalogApp = catalogApp;
    this.plan = plan;
    this.status.appTarget = plan.target;
    this.status.progress(`starting ${this.catalogApp.name}`);
    let app: RunningApp;
    if (plan.builtin) {
      try {
        app = await this.startBuiltin(plan);
      } catch (err) {
        return this.end(`cannot start the built-in ${plan.builtin}: ${(err as Error).message}`, 1);
      }
    } else {
      log(`command: ${JSON.stringify(plan.argv)}`);
      const spawned = AppProcess.spawn(plan, (chunk) => this.output.write(chunk));
      this.status.appPid = spawned.pid;
      app = spawned;
    }
    this.app = app;
    void app.exited.then((exit) => this.onAppExit(exit));
    const forwarding = loadForwarder().then((forwarder) => {
      this.forwarderClass = forwarder;
      this.forwarder = new forwarder({
        target: plan.target,
        prefix: this.req.prefix,
        stripPrefix: catalogApp.strip_prefix,
        publicOrigin: this.req.publicOrigin,
        ownOrigin: this.req.ownOrigin === true,
        framing: this.req.framing,
        ...(this.req.hub ? { visitorSandbox: { owner: this.req.hub.user } } : {}),
        activity: this.activity,
        onError: (err, req, res, status) => this.onForwardError(err, req, res, status),
      });
    });
    void this.awaitReady(plan, forwarding);
  }

  private startBuiltin(plan: LaunchPlan): Promise<RunningApp> {
    return startBuiltin({
      plan,
      base: this.catalogApp.strip_prefix ? '/' : this.req.prefix,
      title: this.catalogApp.title,
      launcher: this.launcher,
      log,
      onPid: (pid) => (this.status.appPid = pid),
    });
  }

  private async awaitReady(plan: LaunchPlan, forwarding: Promise<void>): Promise<void> {
    const ready = this.catalogApp.ready;
    const started = Date.now();
    this.status.progress(
      'port' in plan.target ? `waiting for port ${plan.target.port}` : 'waiting for socket',
    );
    const timeoutMs = ready.timeout !== undefined ? ready.timeout * 1000 : this.req.readyTimeoutMs;
    const path = this.catalogApp.strip_prefix
      ? ready.path
      : this.req.prefix.slice(0, -1) + ready.path;
    const result = await waitReady(
      { target: plan.target, kind: ready.kind, path, statusBelow: ready.status_below, timeoutMs },
      this.abort.signal,
      (m) => this.status.progress(m),
    );
    if (this.ending || result === 'aborted') return;
    if (result === 'timeout') {
      return this.end(
        `${describeTarget(plan.target)} was not ready after ${Math.round(timeoutMs / 1000)} s`,
        1,
      );
    }
    try {
      await forwarding;
    } catch (err) {
      return this.end(`cannot load the forwarding core: ${describeError(err)}`, 1);
    }
    if (this.ending) return;
    this.status.state = 'ready';
    this.status.readyAt = new Date();
    this.status.progress(`ready after ${Date.now() - started} ms`);
  }

  private onAppExit(exit: AppExit): void {
    if (this.ending) return;
    const wasReady = this.status.state === 'ready';
    const what = describeExit(exit);
    log(what);
    const reason = wasReady || exit.error ? what : `${what} before it was ready`;
    // A terminal ends when its shell does, whatever the shell's exit status: that is a normal stop.
    const clean = exit.code === 0 || (this.plan?.builtin === 'terminal' && exit.error === null);
    void this.end(reason, wasReady && clean ? 0 : 1, exit);
  }

  private async shutdown(why: string): Promise<void> {
    if (this.ending) return;
    await this.end(`stopped: ${why}`, PROXY_EXIT.ok, undefined, false);
  }

  /** Stop the app (what is left of it), record why, keep answering health a moment when it failed, exit. */
  private async end(reason: string, code: number, exit?: AppExit, linger = true): Promise<void> {
    if (this.ending) return;
    this.ending = true;
    this.abort.abort();
    this.status.state = 'stopping';
    if (!exit) this.status.progress(reason);
    let final = exit ?? null;
    if (this.app) {
      await this.app.stop(this.req.stopGraceMs);
      final ??= await Promise.race([this.app.exited, sleep(1000).then(() => null)]);
    }
    if (this.plan?.runtimeDir) removeRuntimeDir(this.plan.runtimeDir);
    this.status.exit = { code: final?.code ?? null, signal: final?.signal ?? null, reason };
    this.status.state = 'exited';
    if (exit) this.status.progress(reason);
    if (linger) await sleep(LINGER_MS);
    this.forwarder?.close();
    this.server.closeAllConnections();
    // Closing a unix socket server unlinks its file; exiting without closing leaves it.
    if (this.routeGone || !this.req.socket) this.server.close();
    log(`${reason}; the proxy exits with code ${code}`);
    process.exit(code);
  }

  private onForwardError(
    err: Error,
    req: IncomingMessage,
    res: ServerResponse | Socket,
    status: 502 | 504 = 502,
  ): void {
    log(`${req.method} ${(req.url ?? '').split('?')[0]}: forwarding failed: ${describeError(err)}`);
    if ('writeHead' in res) {
      const starting = this.status.state === 'starting';
      sendPage(
        req,
        res,
        starting ? 503 : 502,
        starting
          ? 'the app is starting'
          : 'the app does not answer; it may have crashed or be overloaded',
        {
          launcher: this.launcher,
        },
      );
    } else {
      refuseUpgrade(
        res,
        status,
        status === 504
          ? 'the app did not answer the WebSocket handshake in time'
          : 'the app does not answer; it may have crashed or be overloaded',
      );
    }
  }
}
