import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HubappsError } from '../errors.js';
import { freePort } from '../net/ports.js';
import { listensOn } from '../procfs/listeners.js';

export interface StartChpOptions {
  /** Public (proxy) port; a free one when omitted. Give the old ports to restart CHP in place. */
  port?: number;
  /** REST API port; a free one when omitted. */
  apiPort?: number;
  /** Becomes CONFIGPROXY_AUTH_TOKEN in CHP's environment (never argv: argv is world-readable in ps). */
  authToken: string;
  defaultTarget?: string;
  /**
   * Route by host name (the apps CHP): routes are '/HOST[/path]'. Never combined with
   * --no-include-prefix, which cuts the host's length off the forwarded path.
   */
  hostRouting?: boolean;
  errorTarget?: string;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** Receives CHP's stdout and stderr; without it only a short tail is kept, for error messages. */
  onOutput?: (text: string) => void;
  /** How long CHP may take to answer on both ports. */
  readyTimeoutMs?: number;
}

export interface RunningChp {
  proxyUrl: string;
  apiUrl: string;
  port: number;
  apiPort: number;
  pid: number;
  /** SIGTERM, then SIGKILL after a grace period; resolves once the process has exited. */
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
const ATTEMPTS = 5;

/** The CHP entry point inside node_modules, found from this file so it works from dist/ too. */
export function chpBin(): string {
  const pkg = createRequire(import.meta.url).resolve('configurable-http-proxy/package.json');
  return join(dirname(pkg), 'bin', 'configurable-http-proxy');
}

/**
 * Run configurable-http-proxy on loopback and wait until it answers. CHP cannot report a
 * port it chose itself (it treats --port 0 as 8000), so free ports are picked here; another
 * process may grab one in between, hence the retries when the ports were not given.
 */
export async function startChp(opts: StartChpOptions): Promise<RunningChp> {
  const fixed = opts.port !== undefined || opts.apiPort !== undefined;
  for (let attempt = 1; ; attempt++) {
    const port = opts.port ?? (await freePort(HOST));
    const apiPort = opts.apiPort ?? (await freePort(HOST));
    try {
      return await launch(opts, port, apiPort);
    } catch (err) {
      const retry =
        !fixed &&
        attempt < ATTEMPTS &&
        err instanceof HubappsError &&
        err.code === 'chp_port_in_use';
      if (!retry) throw err;
    }
  }
}

async function launch(opts: StartChpOptions, port: number, apiPort: number): Promise<RunningChp> {
  const args = [
    chpBin(),
    '--ip',
    HOST,
    '--port',
    String(port),
    '--api-ip',
    HOST,
    '--api-port',
    String(apiPort),
  ];
  args.push('--log-level', opts.logLevel ?? 'warn');
  if (opts.hostRouting) args.push('--host-routing');
  if (opts.defaultTarget) args.push('--default-target', opts.defaultTarget);
  if (opts.errorTarget) args.push('--error-target', opts.errorTarget);
  const child = spawn(process.execPath, args, {
    env: { ...process.env, CONFIGPROXY_AUTH_TOKEN: opts.authToken },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tail = collectOutput(child, opts.onOutput);
  // 'close', not 'exit': the output (EADDRINUSE) must be read before deciding to retry.
  const exited = new Promise<void>((resolve) => {
    child.once('close', () => resolve());
    child.once('error', () => resolve());
  });
  // A test runner that exits without stop() must not leave CHP behind.
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);
  const stop = async () => {
    process.off('exit', killOnExit);
    await terminate(child, exited);
  };
  const apiUrl = `http://${HOST}:${apiPort}`;
  try {
    await waitReady(
      child,
      { apiUrl, token: opts.authToken, port, apiPort },
      tail,
      exited,
      opts.readyTimeoutMs ?? 10_000,
    );
  } catch (err) {
    await stop();
    throw startFailure(err, tail(), port, apiPort);
  }
  if (child.pid === undefined)
    throw new HubappsError('chp_start', 'configurable-http-proxy has no pid');
  return { proxyUrl: `http://${HOST}:${port}`, apiUrl, port, apiPort, pid: child.pid, stop };
}

function collectOutput(child: ChildProcess, onOutput?: (text: string) => void): () => string {
  let tail = '';
  const keep = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    onOutput?.(text);
    tail = (tail + text).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return () => tail;
}

interface Endpoints {
  apiUrl: string;
  token: string;
  port: number;
  apiPort: number;
}

async function waitReady(
  child: ChildProcess,
  at: Endpoints,
  tail: () => string,
  exited: Promise<void>,
  timeoutMs: number,
): Promise<void> {
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    // CHP logs a failed listen and keeps running, so the output and the sockets are checked.
    if (gone || /EADDRINUSE/.test(tail()))
      throw new Error('configurable-http-proxy could not start');
    const pid = child.pid ?? 0;
    if (
      (await listensOn(pid, at.port)) &&
      (await listensOn(pid, at.apiPort)) &&
      (await apiAnswers(at.apiUrl, at.token))
    )
      return;
    await sleep(50);
  }
  throw new Error(`configurable-http-proxy did not answer within ${timeoutMs} ms`);
}

async function apiAnswers(apiUrl: string, token: string): Promise<boolean> {
  try {
    const res = await fetch(`${apiUrl}/api/routes`, {
      headers: { Authorization: `token ${token}` },
      signal: AbortSignal.timeout(1000),
    });
    await res.body?.cancel();
    return res.status === 200;
  } catch {
    return false;
  }
}

async function terminate(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

function startFailure(err: unknown, tail: string, port: number, apiPort: number): HubappsError {
  if (/EADDRINUSE/.test(tail)) {
    return new HubappsError(
      'chp_port_in_use',
      `configurable-http-proxy could not listen on ${HOST}:${port} or ${HOST}:${apiPort}: the port is in use`,
      {
        cause: err,
      },
    );
  }
  const output = tail.trim()
    ? `; its output ends with:\n${tail.trim().split('\n').slice(-10).join('\n')}`
    : '';
  return new HubappsError('chp_start', `${(err as Error).message}${output}`, { cause: err });
}
