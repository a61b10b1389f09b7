/**
 * Everything the hop benchmarks talk through, on loopback: a real CHP; hubapps-proxy
 * started as this user with a StartRequest on stdin (as sudo would start it), running the
 * tiny app; a bare http-proxy-3 hop and (when available) jupyter-server-proxy standalone
 * in front of the same app program. Each path is one route in the same CHP.
 */
import { randomBytes } from 'node:crypto';
import { request, type IncomingHttpHeaders } from 'node:http';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { compileCatalog } from '../src/catalog/compile.js';
import { startChp, type RunningChp } from '../src/chp/chp-process.js';
import { freePort } from '../src/net/ports.js';
import {
  PROXY_MAIN,
  proxyArgs,
  proxyCommandLine,
  spawnCommand,
} from '../src/proxy/command-line.js';
import {
  PROTOCOL_VERSION,
  type HealthReport,
  type PortPolicy,
  type StartRequest,
} from '../src/protocol/wire.js';
import { jspAvailable, startJsp } from './jsp.js';
import { descendants, type Child, type Processes } from './procs.js';
import {
  BENCH_GRANT,
  BENCH_GRANT_COOKIE,
  startTokenService,
  type TokenService,
} from './token-service.js';
import { signCall } from '../src/protocol/challenge.js';

export { PROXY_MAIN };
export const TINY_APP = fileURLToPath(new URL('./tiny-app.js', import.meta.url));
const BARE_HOP = fileURLToPath(new URL('./bare-hop.js', import.meta.url));
export const TOKEN = 'bench-token';
export const USER = 'bench';

export type PathKey =
  'direct' | 'chp' | 'bare' | 'hubapps' | 'hubapps-unix' | 'hubapps-token' | 'jsp' | 'port';

export interface HopPath {
  key: PathKey;
  label: string;
  url: string;
  wsUrl: string;
  headers: Record<string, string>;
  /** The server-side processes on this path (app, CHP, the hop): their CPU time per request is reported. */
  cpuPids: number[];
  /** The hop process alone (empty for paths without a hop). */
  hopPids: number[];
}

export interface HopStack {
  paths: HopPath[];
  /** The hop processes whose memory is reported. */
  hops: { proxy: Child; unixProxy: Child; bare: Child; jsp: Child | null };
  jsp: { available: boolean; reason: string | null };
  chp: RunningChp;
  tokenChecks(): number;
  stop(): Promise<void>;
}

export async function startHopStack(
  procs: Processes,
  opts: { withToken: boolean; withJsp: boolean },
): Promise<HopStack> {
  const dir = await mkdtemp(join(tmpdir(), 'hubapps-bench-'));
  const chpToken = randomBytes(18).toString('base64url');
  const chp = await startChp({ authToken: chpToken });
  const service = await startTokenService(TOKEN, USER, (id) =>
    id === UNIX.id ? UNIX.prefix : TCP.prefix,
  );
  const cleanup = async () => {
    await procs.stopAll();
    await service.close();
    await chp.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const catalog = await writeCatalog(dir);
    const proxy = await startProxy(procs, catalog, chp.proxyUrl, service, TCP);
    // As production runs it: on a unix socket, routed by CHP as http+unix://.
    const unixProxy = await startProxy(procs, catalog, chp.proxyUrl, service, {
      ...UNIX,
      socket: join(dir, 'proxy.sock'),
    });
    const barePort = await freePort('127.0.0.1');
    const bare = procs.start('bare http-proxy-3 hop', process.execPath, [
      BARE_HOP,
      String(barePort),
      String(proxy.appPort),
    ]);
    const route = (path: string, port: number) =>
      addRoute(chp, chpToken, path, `http://127.0.0.1:${port}`);
    await route('/direct', proxy.appPort);
    await route('/bare', barePort);
    await route('/apps/bench/hop', proxy.port);
    await addRoute(
      chp,
      chpToken,
      '/apps/bench/unix',
      `http+unix://${encodeURIComponent(unixProxy.socket!)}`,
    );
    const jsp = opts.withJsp ? await jspAvailable() : { ok: false as const, reason: 'left out' };
    let jspChild: Child | null = null;
    if (jsp.ok) {
      const port = await freePort('127.0.0.1');
      jspChild = startJsp(procs, {
        pythonPath: jsp.pythonPath,
        port,
        baseUrl: '/apps/bench/jsp',
        command: [process.execPath, TINY_APP, '{port}'],
      });
      await route('/apps/bench/jsp', port);
    }
    const paths = buildPaths(chp, { tcp: proxy, unix: unixProxy }, bare, jspChild, opts.withToken);
    for (const p of paths) await untilAnswered(p);
    // jupyter-server-proxy starts its app on the first request: only now does it have one.
    if (jspChild) paths.find((p) => p.key === 'jsp')!.cpuPids.push(...descendants(jspChild.pid));
    return {
      paths,
      hops: { proxy: proxy.child, unixProxy: unixProxy.child, bare, jsp: jspChild },
      jsp: { available: jsp.ok, reason: jsp.ok ? null : jsp.reason },
      chp,
      tokenChecks: service.calls,
      stop: cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

function buildPaths(
  chp: RunningChp,
  proxies: { tcp: StartedProxy; unix: StartedProxy },
  bare: Child,
  jsp: Child | null,
  withToken: boolean,
): HopPath[] {
  const proxy = proxies.tcp;
  const origin = chp.proxyUrl;
  const path = (
    key: PathKey,
    label: string,
    base: string,
    headers: Record<string, string>,
    cpuPids: number[],
    hopPids: number[] = [],
  ): HopPath => ({
    key,
    label,
    url: `${base}/`,
    wsUrl: `${base.replace(/^http/, 'ws')}/`,
    headers,
    cpuPids,
    hopPids,
  });
  const app = proxy.appPid;
  const hubapps = [chp.pid, proxy.child.pid, app];
  const paths = [
    path('direct', 'app direct', `http://127.0.0.1:${proxy.appPort}`, {}, [app]),
    path('chp', 'CHP -> app', `${origin}/direct`, {}, [chp.pid, app]),
    path(
      'bare',
      'CHP -> bare http-proxy-3 -> app',
      `${origin}/bare`,
      {},
      [chp.pid, bare.pid, app],
      [bare.pid],
    ),
    path(
      'hubapps',
      'CHP -> hubapps-proxy -> app (cookie)',
      `${origin}/apps/bench/hop`,
      { cookie: proxy.cookie },
      hubapps,
      [proxy.child.pid],
    ),
    path(
      'hubapps-unix',
      'CHP -> hubapps-proxy on a unix socket -> app (cookie)',
      `${origin}/apps/bench/unix`,
      { cookie: proxies.unix.cookie },
      [chp.pid, proxies.unix.child.pid, proxies.unix.appPid],
      [proxies.unix.child.pid],
    ),
  ];
  if (withToken)
    paths.push(
      path(
        'hubapps-token',
        'CHP -> hubapps-proxy -> app (token header)',
        `${origin}/apps/bench/hop`,
        { authorization: `token ${TOKEN}` },
        hubapps,
        [proxy.child.pid],
      ),
    );
  if (jsp)
    paths.push(
      path(
        'jsp',
        'CHP -> jupyter-server-proxy -> app',
        `${origin}/apps/bench/jsp`,
        {},
        [chp.pid, jsp.pid],
        [jsp.pid],
      ),
    );
  return paths;
}

export interface StartedProxy {
  child: Child;
  port: number;
  socket?: string;
  appPort: number;
  appPid: number;
  cookie: string;
}

const TCP = { id: 1, name: 'hop', prefix: '/apps/bench/hop/' };
const UNIX = { id: 2, name: 'unix', prefix: '/apps/bench/unix/' };

/** `appArgs`: more arguments for the tiny app after its {port}. */
export async function writeCatalog(dir: string, appArgs: string[] = []): Promise<string> {
  const catalog = join(dir, 'apps.d');
  await mkdir(catalog);
  await writeFile(
    join(catalog, 'tiny.yaml'),
    stringify({ title: 'Tiny', command: [process.execPath, TINY_APP, '{port}', ...appArgs] }),
  );
  // As `hubapps check-config` leaves a production catalog: the proxy reads the compiled form.
  compileCatalog(catalog);
  return catalog;
}

/** hubapps-proxy as sudo would start it (minus sudo): the StartRequest on stdin, the catalog from argv; on TCP, or on `socket`; with the user's own ports when `ports` is given. */
export async function startProxy(
  procs: Processes,
  catalog: string,
  publicOrigin: string,
  service: TokenService,
  at: { id: number; name: string; prefix: string; socket?: string; ports?: PortPolicy },
): Promise<StartedProxy> {
  const port = await freePort('127.0.0.1');
  const spec: StartRequest = {
    op: 'start',
    version: PROTOCOL_VERSION,
    server: { id: at.id, user: USER, name: at.name },
    app: 'tiny',
    options: {},
    port,
    ...(at.socket ? { socket: at.socket, appPort: port } : {}),
    secret: randomBytes(24).toString('hex'),
    publicOrigin,
    allowedOrigins: [],
    framing: { frames: 'server', popups: 'isolate' },
    prefix: at.prefix,
    serviceUrl: service.url,
    stopGraceMs: 2000,
    readyTimeoutMs: 15_000,
    logMaxBytes: 1 << 20,
    ...(at.ports ? { ports: at.ports } : {}),
  };
  const proxy = spawnCommand(proxyCommandLine(proxyArgs(catalog)));
  const child = procs.start(
    at.socket ? 'hubapps-proxy (unix socket)' : 'hubapps-proxy',
    proxy.file,
    proxy.args,
    { stdin: `${JSON.stringify(spec)}\n` },
  );
  const where: Where = at.socket ? { socketPath: at.socket } : { host: '127.0.0.1', port };
  const report = await waitHealthy(where, spec.secret, child);
  if (!report.appTarget || !('port' in report.appTarget))
    throw new Error('hubapps-proxy reports no app port');
  // A browser's way in: the access code bound to its grant cookie.
  const login = await get(where, `${spec.prefix}_hubapps/grant?code=${BENCH_GRANT}`, {
    cookie: `hubapps-grant-${spec.server.id}=${BENCH_GRANT_COOKIE}`,
  });
  const cookie = ([] as string[])
    .concat(login.headers['set-cookie'] ?? [])
    .find((c) => c.startsWith('hubapps-proxy-'))
    ?.split(';')[0];
  if (login.status !== 302 || !cookie)
    throw new Error(
      `hubapps-proxy did not set its cookie for the access code (HTTP ${login.status})`,
    );
  return {
    child,
    port,
    ...(at.socket ? { socket: at.socket } : {}),
    appPort: report.appTarget.port,
    appPid: report.appPid!,
    cookie,
  };
}

type Where = { host: string; port: number } | { socketPath: string };

/** One GET to a proxy on TCP or on its socket (fetch speaks neither a socket path nor keeps set-cookie whole). */
function get(
  where: Where,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ ...where, path, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject).end();
  });
}

/** Poll the proxy's health until it reports ready; the time it took is the proxy's start-up as seen from outside. */
export async function waitHealthy(
  at: number | Where,
  secret: string,
  child: Child,
  timeoutMs = 15_000,
): Promise<HealthReport> {
  const where: Where = typeof at === 'number' ? { host: '127.0.0.1', port: at } : at;
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (child.exited()) throw new Error(`${child.name} exited; its output:\n${child.output()}`);
    try {
      const res = await get(where, '/_hubapps/health', {
        authorization: signCall(secret, 'GET', '/_hubapps/health').header,
      });
      const report = JSON.parse(res.body) as HealthReport;
      if (report.state === 'ready') return report;
    } catch {
      // not listening yet
    }
    await sleep(5);
  }
  throw new Error(
    `${child.name} was not ready within ${timeoutMs} ms; its output:\n${child.output()}`,
  );
}

export async function addRoute(
  chp: RunningChp,
  token: string,
  path: string,
  target: string,
): Promise<void> {
  const res = await fetch(`${chp.apiUrl}/api/routes${path}`, {
    method: 'POST',
    headers: { authorization: `token ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ target }),
  });
  if (res.status !== 201)
    throw new Error(`CHP answered ${res.status} when adding the route ${path}`);
}

/** Wait until a path serves the app's 1 KiB (jupyter-server-proxy starts its app on the first request). */
export async function untilAnswered(path: HopPath): Promise<void> {
  const end = Date.now() + 20_000;
  let last = '';
  while (Date.now() < end) {
    try {
      const res = await fetch(path.url, { headers: path.headers, redirect: 'manual' });
      const body = await res.text();
      if (res.status === 200 && body.length === 1024) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(50);
  }
  throw new Error(`${path.label} did not serve the app within 20 s (last: ${last})`);
}
