/**
 * The proxy's one listener on 127.0.0.1:PORT. Paths under the server's prefix are the
 * app (after the path, Origin and credential checks), except {prefix}_hubapps/grant, where
 * a browser brings its one-time access code; /_hubapps/health and
 * /_hubapps/shutdown are the service's private endpoints, guarded by the secret;
 * everything else is 404.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import { HubappsError, errnoCode } from '../errors.js';
import { PROXY_ENDPOINTS, type StartRequest } from './protocol.js';
import type { Access, Decision } from './access.js';
import type { Activity } from './activity.js';
import type { Forwarder } from './forward.js';
import { serveGrant, type Grants } from './grant.js';
import type { OriginPolicy } from './origin.js';
import type { ProxyStatus } from './status.js';
import { refuseUpgrade, sendPage, type PageOptions } from './pages.js';
import { checkPath } from './url-path.js';
import { describeError, log } from './log.js';

export interface ListenerDeps {
  request: StartRequest;
  status: ProxyStatus;
  access: Access;
  grants: Grants;
  origins: OriginPolicy;
  activity: Activity;
  /** Set once the app's target is known. */
  forwarder: () => Forwarder | null;
  onShutdown: () => void;
  /** Where the pages link to: the launcher's public URL. */
  launcher: string;
}

export function createListener(deps: ListenerDeps): Server {
  const listener = new Listener(deps);
  const server = createServer((req, res) => listener.request(req, res));
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => listener.upgrade(req, socket, head));
  server.on('clientError', (err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    else socket.destroy(err);
  });
  // Long uploads and long polls pass through: the front proxies own those limits.
  server.requestTimeout = 0;
  return server;
}

class Listener {
  private readonly prefix: string;
  private readonly base: string;
  private readonly expected: Buffer;
  private readonly page: PageOptions;
  private readonly starting: PageOptions;
  private readonly unauthorized: PageOptions;

  constructor(private readonly deps: ListenerDeps) {
    this.prefix = deps.request.prefix;
    this.base = this.prefix.slice(0, -1);
    this.expected = Buffer.from(`Bearer ${deps.request.secret}`);
    this.page = { launcher: deps.launcher };
    this.starting = { launcher: deps.launcher, refresh: 2 };
    this.unauthorized = { launcher: deps.launcher, headers: { 'www-authenticate': 'token realm="hubapps"' } };
  }

  request(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    if (url.startsWith(this.prefix)) {
      if (this.deps.grants.matches(url)) return this.grant(req, res, url);
      return this.proxied(req, res, url);
    }
    if (url.startsWith('/_hubapps/')) return this.privateEndpoint(req, res, url);
    if (url === this.base || url.startsWith(`${this.base}?`)) {
      res.writeHead(302, { location: this.prefix + url.slice(this.base.length), 'content-length': 0 });
      return void res.end();
    }
    sendPage(req, res, 404, 'not found: this server only serves paths below its prefix', this.page);
  }

  upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    // A client that goes away before the upgrade is not worth a log line; ws-hop.ts handles later errors.
    socket.on('error', () => undefined);
    const url = req.url ?? '/';
    if (!url.startsWith(this.prefix)) return refuseUpgrade(socket, 404, 'not found');
    if (checkPath(url) !== 'ok') return refuseUpgrade(socket, 400, "paths with '..' segments are refused");
    if (!this.deps.origins.accepts(req.headers.origin)) {
      log(`refused a websocket from origin ${JSON.stringify(req.headers.origin).slice(0, 200)}`);
      return refuseUpgrade(socket, 403, 'this origin may not open websockets to this server');
    }
    const go = (d: Decision): void => {
      if (!d.ok) return refuseUpgrade(socket, d.status, d.message);
      const fwd = this.deps.forwarder();
      if (this.deps.status.state !== 'ready' || fwd === null) return refuseUpgrade(socket, 503, 'the app is not running');
      this.deps.activity.touch();
      fwd.ws(req, socket, head);
    };
    const d = this.deps.access.authorize(req, true);
    if (d instanceof Promise) d.then(go, () => refuseUpgrade(socket, 500, 'internal error'));
    else go(d);
  }

  private proxied(req: IncomingMessage, res: ServerResponse, url: string): void {
    const path = checkPath(url);
    if (path !== 'ok') return sendPage(req, res, 400, path === 'dotdot' ? "paths with '..' segments are refused" : 'the path is not valid percent-encoding', this.page);
    const d = this.deps.access.authorize(req, false);
    if (d instanceof Promise) d.then((x) => this.forward(req, res, x), (err) => this.internalError(req, res, err));
    else this.forward(req, res, d);
  }

  private grant(req: IncomingMessage, res: ServerResponse, url: string): void {
    const { grants, access } = this.deps;
    serveGrant(req, res, url, { grants, access, page: this.page }).catch((err: unknown) => this.internalError(req, res, err));
  }

  private forward(req: IncomingMessage, res: ServerResponse, d: Decision): void {
    if (!d.ok) {
      if (d.status === 302) return redirect(res, d.location);
      return sendPage(req, res, d.status, d.message, d.status === 401 ? this.unauthorized : this.page);
    }
    if (d.redirect !== undefined) return redirect(res, d.redirect, d.setCookie);
    this.deps.activity.touch();
    const state = this.deps.status.state;
    const fwd = this.deps.forwarder();
    if (state === 'ready' && fwd !== null) return fwd.web(req, res);
    if (state === 'starting') return sendPage(req, res, 503, 'the app is starting; this page reloads by itself', this.starting);
    sendPage(req, res, 502, 'the app has stopped; start it again from the launcher', this.page);
  }

  private privateEndpoint(req: IncomingMessage, res: ServerResponse, url: string): void {
    if (!this.hasSecret(req)) return json(res, 401, { status: 401, message: 'the secret of this server is required' });
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    if (path === PROXY_ENDPOINTS.health && req.method === 'GET') {
      const since = Number(new URLSearchParams(q < 0 ? '' : url.slice(q + 1)).get('since') ?? 0);
      return json(res, 200, this.deps.status.report(Number.isFinite(since) ? since : 0));
    }
    if (path === PROXY_ENDPOINTS.shutdown && req.method === 'POST') {
      json(res, 202, { status: 202, message: 'stopping' });
      return this.deps.onShutdown();
    }
    const known = path === PROXY_ENDPOINTS.health || path === PROXY_ENDPOINTS.shutdown;
    json(res, known ? 405 : 404, { status: known ? 405 : 404, message: known ? 'method not allowed' : 'no such endpoint' });
  }

  private hasSecret(req: IncomingMessage): boolean {
    const got = req.headers.authorization;
    if (got === undefined || got.length !== this.expected.length) return false;
    const bytes = Buffer.from(got);
    return bytes.length === this.expected.length && timingSafeEqual(bytes, this.expected);
  }

  private internalError(req: IncomingMessage, res: ServerResponse, err: unknown): void {
    log(`internal error: ${describeError(err)}`);
    sendPage(req, res, 500, 'internal error in hubapps-proxy; see the server log', this.page);
  }
}

function redirect(res: ServerResponse, location: string, setCookie?: string): void {
  res.writeHead(302, { location, 'set-cookie': setCookie ?? [], 'cache-control': 'no-store', 'content-length': 0 });
  res.end();
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

/** Listen on 127.0.0.1:port; a taken port becomes HubappsError('port_in_use'). */
export function listenLoopback(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => {
      reject(errnoCode(err) === 'EADDRINUSE' ? new HubappsError('port_in_use', 409, `port ${port} on 127.0.0.1 is already in use`) : err);
    };
    server.once('error', onError);
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
