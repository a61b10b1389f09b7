/**
 * Running the real hubapps-proxy (dist/src/proxy/main.js) as this test's user against
 * real apps written into a temp catalog, with a small real HTTP service that answers the
 * proxy's token checks by the ProxyAuthRequest contract.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type Server,
} from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { freePort, tmpDir, waitFor, type TmpDir } from '../../helpers/index.js';
import { proxyArgs, proxyCommandLine, spawnCommand } from '../../../src/proxy/command-line.js';
import type {
  AnnounceRequest,
  HealthReport,
  PortAccessRequest,
  ProxyAuthRequest,
  RedeemGrantRequest,
  StartRequest,
} from '../../../src/protocol/wire.js';
import { signCall } from '../../../src/protocol/challenge.js';

export const NODE = process.execPath;
/** Absolute path of the ws package, handed to test apps through their environment. */
export const WS_MODULE = createRequire(import.meta.url).resolve('ws');

/** A temp catalog directory with app files and the apps' own scripts. */
export class Catalog {
  private constructor(readonly tmp: TmpDir) {}

  static async create(): Promise<Catalog> {
    return new Catalog(await tmpDir('proxy'));
  }

  get dir(): string {
    return this.tmp.path;
  }

  /** Write NAME.yaml; the YAML text is given as written by an admin. */
  app(name: string, yaml: string): this {
    writeFileSync(join(this.dir, `${name}.yaml`), yaml);
    return this;
  }

  /** Write a helper file (an app script) and return its absolute path. */
  file(name: string, content: string): string {
    const path = join(this.dir, name);
    writeFileSync(path, content);
    return path;
  }

  remove(): Promise<void> {
    return this.tmp.remove();
  }
}

/**
 * The fake hubapps service: real HTTP, real contract. alice-token is alice's, bob-token
 * bob's, admin-token an admin's. Access codes are issued with grant() and redeemed as the
 * real service does: once, and only by the server they were issued for.
 */
export interface FakeService {
  /** serviceUrl for the start request, e.g. http://127.0.0.1:PORT/services/hubapps/ */
  url: string;
  /** Token checks received, with the Authorization header the proxy sent. */
  calls: { body: ProxyAuthRequest; authorization: string | undefined }[];
  /** Code redemptions received. */
  redeems: { body: RedeemGrantRequest; authorization: string | undefined }[];
  /** Issue a one-time code, as the service's authorize page does. */
  grant(g: {
    serverId: number;
    user: string;
    admin?: boolean;
    shared?: boolean;
    next: string;
    binding?: string;
  }): string;
  /** Session checks received; sessions named in `ended` are answered 403. */
  sessionChecks: { serverId: number; session: string }[];
  ended: Set<string>;
  /** Answer every redemption with this HTTP status instead (null: back to normal). */
  failRedeems(status: number | null): void;
  /** Port-access calls received (POST api/internal/port-access), with the Authorization header (a signed call). */
  portAccess: { body: PortAccessRequest; authorization: string | undefined }[];
  /** How port-access is answered; by default the owner alice may use every port (ttl 30), anyone else gets 403. */
  onPortAccess(handler: (body: PortAccessRequest) => { status: number; body: unknown }): void;
  /** Who answers a job proxy's announcement (POST api/internal/announce): an HTTP status. */
  onAnnounce(
    handler: (body: AnnounceRequest, authorization: string | undefined) => Promise<number>,
  ): void;
  close(): Promise<void>;
}

/** The grant cookie value codes are bound to unless a test says otherwise (the browser is then sent with `grant-cookie-7=` it). */
export const TEST_GRANT_NONCE = 'g'.repeat(43);

const REDEEM_PATH = '/services/hubapps/api/internal/redeem-grant';
const ANNOUNCE_PATH = '/services/hubapps/api/internal/announce';
const PORT_ACCESS_PATH = '/services/hubapps/api/internal/port-access';

export async function startFakeService(): Promise<FakeService> {
  const calls: FakeService['calls'] = [];
  const users: Record<string, { user: string; admin: boolean }> = {
    'alice-token': { user: 'alice', admin: false },
    'bob-token': { user: 'bob', admin: false },
    'admin-token': { user: 'root-admin', admin: true },
  };
  const redeems: FakeService['redeems'] = [];
  const grants = new Map<
    string,
    {
      serverId: number;
      user: string;
      admin: boolean;
      shared?: boolean;
      next: string;
      binding: string;
    }
  >();
  const sessionChecks: FakeService['sessionChecks'] = [];
  const portAccess: FakeService['portAccess'] = [];
  let portAnswer = (body: PortAccessRequest): { status: number; body: unknown } =>
    body.user === 'alice'
      ? { status: 200, body: { ttl: 30 } }
      : { status: 403, body: { status: 403, message: `${body.user} may not use this port` } };
  const ended = new Set<string>();
  let redeemStatus: number | null = null;
  let announce: (
    body: AnnounceRequest,
    authorization: string | undefined,
  ) => Promise<number> = async () => 404;
  const redeem = (
    text: string,
    authorization: string | undefined,
    res: import('node:http').ServerResponse,
  ) => {
    const body = JSON.parse(text) as RedeemGrantRequest;
    redeems.push({ body, authorization });
    const grant = grants.get(body.code);
    if (redeemStatus !== null) return res.writeHead(redeemStatus).end();
    if (!grant || grant.serverId !== body.serverId || grant.binding !== body.binding) {
      return res
        .writeHead(403, { 'content-type': 'application/json' })
        .end('{"status":403,"message":"unknown, used, expired or foreign access code"}');
    }
    grants.delete(body.code);
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        user: grant.user,
        admin: grant.admin,
        shared: grant.shared === true,
        ttl: 0,
        next: grant.next,
        session: `session-of-${grant.user}`,
      }),
    );
  };
  const server: Server = createServer((req, res) => {
    let text = '';
    req.on('data', (c) => (text += c));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === REDEEM_PATH)
        return redeem(text, req.headers.authorization, res);
      if (req.method === 'POST' && req.url === PORT_ACCESS_PATH) {
        const body = JSON.parse(text) as PortAccessRequest;
        portAccess.push({ body, authorization: req.headers.authorization });
        const answer = portAnswer(body);
        return res
          .writeHead(answer.status, { 'content-type': 'application/json' })
          .end(JSON.stringify(answer.body));
      }
      if (req.method === 'POST' && req.url === ANNOUNCE_PATH) {
        void announce(JSON.parse(text) as AnnounceRequest, req.headers.authorization).then(
          (status) => res.writeHead(status).end('{}'),
        );
        return;
      }
      if (req.method === 'POST' && req.url === '/services/hubapps/api/internal/session-check') {
        const body = JSON.parse(text) as { serverId: number; session: string };
        sessionChecks.push(body);
        return res
          .writeHead(ended.has(body.session) ? 403 : 200, { 'content-type': 'application/json' })
          .end('{}');
      }
      if (req.method !== 'POST' || req.url !== '/services/hubapps/api/internal/proxy-auth') {
        res.writeHead(404).end();
        return;
      }
      const body = JSON.parse(text) as ProxyAuthRequest;
      calls.push({ body, authorization: req.headers.authorization });
      const who = users[body.token];
      if (!who) {
        res
          .writeHead(403, { 'content-type': 'application/json' })
          .end('{"status":403,"message":"unknown token"}');
        return;
      }
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ ...who, ttl: 30 }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/services/hubapps/`,
    calls,
    redeems,
    sessionChecks,
    ended,
    grant(g) {
      const code = randomBytes(32).toString('base64url');
      grants.set(code, { admin: false, binding: TEST_GRANT_NONCE, ...g });
      return code;
    },
    failRedeems: (status) => (redeemStatus = status),
    portAccess,
    onPortAccess: (handler) => (portAnswer = handler),
    onAnnounce: (handler) => (announce = handler),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One HTTP request to 127.0.0.1:port without connection reuse. */
export function fetchRaw(
  port: number,
  path: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        path,
        method: opts.method ?? 'GET',
        headers: opts.headers,
        agent: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

export interface RunningProxy {
  spec: StartRequest;
  child: ChildProcess;
  /** Everything the proxy and its app wrote to stdout/stderr so far. */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** `waitMs`: ask the proxy to hold the answer until it has news (at most that long). */
  health(since?: number, secret?: string, waitMs?: number): Promise<Answer>;
  report(since?: number): Promise<HealthReport>;
  /** Wait until health says ready; fails with the proxy's output on timeout. */
  ready(timeout?: number): Promise<HealthReport>;
  get(path: string, headers?: Record<string, string>, method?: string): Promise<Answer>;
  /** SIGTERM the proxy if still running and wait for it; kill leftovers of its app group. */
  kill(): Promise<void>;
}

export interface ProxyOptions {
  catalog: Catalog;
  app: string;
  service: FakeService;
  serverId?: number;
  user?: string;
  name?: string;
  port?: number;
  publicOrigin?: string;
  allowedOrigins?: string[];
  framing?: StartRequest['framing'];
  ports?: StartRequest['ports'];
  /** Per-server origins: publicOrigin is the server's own origin and the prefix is '/'. */
  ownOrigin?: boolean;
  revalidateMs?: number;
  readyTimeoutMs?: number;
  stopGraceMs?: number;
  logMaxBytes?: number;
  args?: string[];
}

/** runtime_dir for proxies started here: this process's own private directory, as the local launcher has. */
let runtimeParent: string | undefined;
function runtimeDir(): string {
  if (!runtimeParent) {
    const dir = mkdtempSync(join(tmpdir(), 'hubapps-run-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    runtimeParent = dir;
  }
  return runtimeParent;
}

export function makeSpec(opts: ProxyOptions, port: number): StartRequest {
  const user = opts.user ?? 'alice';
  const name = opts.name ?? opts.app;
  return {
    op: 'start',
    version: 1,
    server: { id: opts.serverId ?? 7, user, name },
    app: opts.app,
    options: {},
    port,
    runtimeDir: runtimeDir(),
    secret: randomBytes(24).toString('hex'),
    publicOrigin: opts.publicOrigin ?? 'https://hub.example.org',
    allowedOrigins: opts.allowedOrigins ?? [],
    framing: opts.framing ?? { frames: 'server', popups: 'isolate' },
    prefix: opts.ownOrigin === true ? '/' : `/apps/${user}/${name}/`,
    ...(opts.ownOrigin === true ? { ownOrigin: true } : {}),
    serviceUrl: opts.service.url,
    stopGraceMs: opts.stopGraceMs ?? 2000,
    readyTimeoutMs: opts.readyTimeoutMs ?? 15000,
    logMaxBytes: opts.logMaxBytes ?? 1 << 20,
    ...(opts.ports === undefined ? {} : { ports: opts.ports }),
    ...(opts.revalidateMs === undefined ? {} : { revalidateMs: opts.revalidateMs }),
  };
}

/** Start the proxy with a spec on stdin (not waiting for readiness). */
export async function startProxy(opts: ProxyOptions): Promise<RunningProxy> {
  const port = opts.port ?? (await freePort());
  const spec = makeSpec(opts, port);
  return runProxy(spec, [...proxyArgs(opts.catalog.dir), ...(opts.args ?? [])]);
}

export function runProxy(spec: unknown, args: string[], stdinText?: string): RunningProxy {
  const { file, args: argv } = spawnCommand(proxyCommandLine(args, { node: NODE }));
  const child = spawn(file, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stdin!.end(stdinText ?? `${JSON.stringify(spec)}\n`);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  const s = spec as StartRequest;
  let appPid: number | null = null;
  const proxy: RunningProxy = {
    spec: s,
    child,
    output: () => out,
    exited,
    health: (since, secret = s.secret, waitMs) => {
      const query = [
        ...(since === undefined ? [] : [`since=${since}`]),
        ...(waitMs === undefined ? [] : [`wait=${waitMs}`]),
      ];
      const path = `/_hubapps/health${query.length ? `?${query.join('&')}` : ''}`;
      return fetchRaw(s.port, path, {
        headers: { authorization: signCall(secret, 'GET', path).header },
      });
    },
    async report(since) {
      const answer = await proxy.health(since);
      if (answer.status !== 200)
        throw new Error(`health answered ${answer.status}: ${answer.body}`);
      const report = JSON.parse(answer.body) as HealthReport;
      appPid = report.appPid ?? appPid;
      return report;
    },
    async ready(timeout = 15000) {
      try {
        return await waitFor(
          async () => {
            const r = await proxy.report();
            if (r.state === 'exited') throw new Error(`app exited: ${r.exit?.reason}`);
            return r.state === 'ready' ? r : null;
          },
          { timeout, what: 'the proxy to report ready' },
        );
      } catch (err) {
        throw new Error(`${(err as Error).message}\n--- proxy output ---\n${out}`, { cause: err });
      }
    },
    get: (path, headers, method) => fetchRaw(s.port, path, { headers, method }),
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 8000);
      await exited;
      clearTimeout(timer);
      if (appPid !== null) {
        try {
          process.kill(-appPid, 'SIGKILL');
        } catch {
          // the group is gone, as it should be
        }
      }
    },
  };
  return proxy;
}

/** Is there a live (non-zombie) process with this pid? */
export function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/**
 * A browser's way in, as the real flow ends: the service issued a code for this browser's
 * grant cookie, the browser brings both to the grant endpoint. Returns "hubapps-proxy-ID=…".
 */
export async function browserLogin(
  proxy: RunningProxy,
  service: FakeService,
  user = proxy.spec.server.user,
): Promise<string> {
  const code = service.grant({ serverId: proxy.spec.server.id, user, next: proxy.spec.prefix });
  const answer = await proxy.get(`${proxy.spec.prefix}_hubapps/grant?code=${code}`, {
    accept: 'text/html',
    cookie: `hubapps-grant-${proxy.spec.server.id}=${TEST_GRANT_NONCE}`,
  });
  const cookie = (answer.headers['set-cookie'] ?? []).find((c) => c.startsWith('hubapps-proxy-'));
  if (answer.status !== 302 || !cookie)
    throw new Error(`grant login answered ${answer.status}: ${answer.body}`);
  return cookie.split(';')[0]!;
}
