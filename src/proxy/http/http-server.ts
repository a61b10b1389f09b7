/**
 * The proxy's one listener on 127.0.0.1:PORT. Paths under the server's prefix are the
 * app (after the path, Origin and credential checks), except {prefix}_hubapps/grant, where
 * a browser brings its one-time access code; /_hubapps/health and
 * /_hubapps/shutdown are the service's private endpoints, guarded by a challenge-response
 * over the secret (protocol/challenge.ts), whose answers carry a proof that this proxy wrote them;
 * everything else is 404.
 */
import { chmodSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { CallVerifier, PROOF_HEADER, proveAnswer } from '../../protocol/challenge.js';
import { HubappsError, errnoCode } from '../../errors.js';
import {
  HEALTH_MAX_WAIT_MS,
  PROXY_ENDPOINTS,
  type PortListing,
  type StartRequest,
} from '../../protocol/wire.js';
import type { PortRequests } from '../ports/port-requests.js';
import type { PortRedirect, PortRoute } from '../ports/route.js';
import type { AccessGate, SignInEndpoint } from '../access/gate.js';
import { admit, settle, type Admission, type AdmissionContext } from './admission.js';
import type { Activity } from './activity.js';
import type { Forwarder } from './forward.js';
import type { OriginPolicy } from './origin.js';
import type { ProxyStatus } from '../status.js';
import { refuseUpgrade, sendPage, type PageOptions } from './pages.js';
import { requestSource } from '../../http/request-source.js';
import { sendSignInPage } from './sign-in-page.js';
import { describeError, log } from '../log.js';

export interface ListenerDeps {
  request: StartRequest;
  status: ProxyStatus;
  access: AccessGate;
  /** Where a browser brings back its sign-in: the service's grant endpoint or the hub's OAuth callback. */
  signIn: SignInEndpoint;
  origins: OriginPolicy;
  activity: Activity;
  /** Set once the app's target is known. */
  forwarder: () => Forwarder | null;
  /** `routeRemoved`: the service says CHP no longer routes here, so the socket file may go. */
  onShutdown: (routeRemoved: boolean) => void;
  /** Where the pages link to: the launcher's public URL. */
  launcher: string;
  /** The user's own ports, when the start request enables them (ports/port-requests.ts); given the server's answer to a refused request. */
  ports?: (refused: Listener['refused']) => PortRequests;
  /** GET PROXY_ENDPOINTS.ports: where this server's processes listen. */
  portListing?: () => Promise<PortListing>;
}

export function createListener(deps: ListenerDeps): Server {
  const listener = new Listener(deps);
  const onSocket = deps.request.socket !== undefined && deps.request.node === undefined;
  const server = createServer((req, res) => {
    if (onSocket) leaveCloseToClient(req, res);
    listener.request(req, res);
  });
  // "100 Continue" only once the request has passed the checks (Listener.forward): a refused
  // request is not invited to send its body, and Node closes its connection after the answer.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) =>
    listener.request(req, res),
  );
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) =>
    listener.upgrade(req, socket, head),
  );
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
  private readonly calls: CallVerifier;
  private readonly page: PageOptions;
  private readonly starting: PageOptions;
  private readonly unauthorized: PageOptions;
  private readonly admission: AdmissionContext;
  private readonly ports: PortRequests | null;

  constructor(private readonly deps: ListenerDeps) {
    this.prefix = deps.request.prefix;
    this.base = this.prefix.slice(0, -1);
    this.calls = new CallVerifier(deps.request.secret);
    this.page = { launcher: deps.launcher };
    this.starting = { launcher: deps.launcher, refresh: 2 };
    this.ports = deps.ports?.((req, res, d) => this.refused(req, res, d)) ?? null;
    this.admission = {
      access: deps.access,
      origins: deps.origins,
      own: this.prefix,
      embedders: deps.request.framing.embedders ?? [],
    };
    this.unauthorized = {
      launcher: deps.launcher,
      headers: { 'www-authenticate': 'token realm="hubapps"' },
    };
  }

  request(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    const port = this.portRoute(req, url);
    if (port !== null && 'redirect' in port) return redirect(res, port.redirect);
    if (this.deps.signIn.matches(url)) return this.signIn(req, res, url, port);
    // On its own host the prefix is '/', so the service's endpoints come first; CHP marks what
    // it forwards with X-Forwarded-For, and browsers never reach them that way.
    if (url.startsWith('/_hubapps/') && (this.prefix !== '/' || isPrivateCall(url, req)))
      return this.privateEndpoint(req, res, url);
    if (port !== null && this.ports !== null) return this.ports.request(req, res, port);
    if (url.startsWith(this.prefix)) return this.proxied(req, res, url);
    if (url === this.base || url.startsWith(`${this.base}?`)) {
      res.writeHead(302, {
        location: this.prefix + url.slice(this.base.length),
        'content-length': 0,
      });
      return void res.end();
    }
    sendPage(req, res, 404, 'not found: this server only serves paths below its prefix', this.page);
  }

  upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    // A client that goes away before the upgrade is not worth a log line; ws-hop.ts handles later errors.
    socket.on('error', () => undefined);
    const url = req.url ?? '/';
    const port = this.portRoute(req, url);
    if (port !== null && 'redirect' in port) return refuseUpgrade(socket, 404, 'not found');
    if (port !== null && this.ports !== null) return this.ports.upgrade(req, socket, head, port);
    if (!url.startsWith(this.prefix)) return refuseUpgrade(socket, 404, 'not found');
    const go = (d: Admission): void => {
      if (!d.ok) return refuseUpgrade(socket, d.status, d.message);
      const fwd = this.deps.forwarder();
      if (this.deps.status.state !== 'ready' || fwd === null)
        return refuseUpgrade(socket, 503, 'the app is not running');
      this.deps.activity.touch();
      this.deps.access.track(req, socket);
      fwd.ws(req, socket, head);
    };
    settle(admit(req, url, true, this.admission), go, () =>
      refuseUpgrade(socket, 500, 'internal error'),
    );
  }

  private proxied(req: IncomingMessage, res: ServerResponse, url: string): void {
    settle(
      admit(req, url, false, this.admission),
      (d) => this.forward(req, res, d),
      (err) => this.internalError(req, res, err),
    );
  }

  private portRoute(req: IncomingMessage, url: string): PortRoute | PortRedirect | null {
    return this.ports === null ? null : this.ports.route(req, url);
  }

  /** On a port's own host, the code is redeemed for that port and the page must be that host's. */
  private signIn(
    req: IncomingMessage,
    res: ServerResponse,
    url: string,
    port: PortRoute | null,
  ): void {
    const hostOrigin = port?.origin;
    const origins = hostOrigin === undefined ? this.deps.origins.allowed : new Set([hostOrigin]);
    if (requestSource(req, this.prefix, origins) === 'foreign') {
      return sendPage(
        req,
        res,
        403,
        'refused: access codes are taken only by a top-level page load',
        this.page,
      );
    }
    const scope =
      hostOrigin === undefined || port === null ? undefined : { port: port.port, kind: port.kind };
    this.deps.signIn
      .serve(req, res, url, this.page, scope)
      .catch((err: unknown) => this.internalError(req, res, err));
  }

  /** A request the checks did not let in: to authorize, to the sign-in page, or a page that says why. */
  refused(req: IncomingMessage, res: ServerResponse, d: Admission & { ok: false }): void {
    if (d.status === 302) return redirect(res, d.location, d.setCookie);
    if ('signIn' in d)
      return sendSignInPage(req, res, {
        ...d.signIn,
        launcherOrigin: new URL(this.deps.launcher).origin,
        grantPath: this.deps.signIn.path,
        framing: this.deps.request.framing,
      });
    sendPage(req, res, d.status, d.message, d.status === 401 ? this.unauthorized : this.page);
  }

  private forward(req: IncomingMessage, res: ServerResponse, d: Admission): void {
    if (!d.ok) return this.refused(req, res, d);
    this.deps.activity.touch();
    const state = this.deps.status.state;
    const fwd = this.deps.forwarder();
    if (state === 'ready' && fwd !== null) {
      if (expectsContinue(req)) res.writeContinue();
      return fwd.web(req, res);
    }
    if (state === 'starting')
      return sendPage(
        req,
        res,
        503,
        'the app is starting; this page reloads by itself',
        this.starting,
      );
    sendPage(req, res, 502, 'the app has stopped; start it again from the launcher', this.page);
  }

  private privateEndpoint(req: IncomingMessage, res: ServerResponse, url: string): void {
    const nonce = this.calls.verify(req.method ?? '', url, req.headers.authorization);
    if (nonce === undefined)
      return json(res, 401, {
        status: 401,
        message: 'a fresh challenge signed with the secret of this server is required',
      });
    const answer = (status: number, body: unknown) =>
      json(res, status, body, (text) => proveAnswer(this.deps.request.secret, nonce, status, text));
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    if (path === PROXY_ENDPOINTS.health && req.method === 'GET') {
      const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
      const since = wholeNumber(query.get('since'));
      const wait = Math.min(wholeNumber(query.get('wait')), HEALTH_MAX_WAIT_MS);
      void this.deps.status
        .changed(since, wait)
        .then(() => answer(200, this.deps.status.report(since)));
      return;
    }
    if (path === PROXY_ENDPOINTS.shutdown && req.method === 'POST') {
      answer(202, { status: 202, message: 'stopping' });
      return this.deps.onShutdown(
        new URLSearchParams(q < 0 ? '' : url.slice(q + 1)).get('route') === 'removed',
      );
    }
    if (path === PROXY_ENDPOINTS.ports && req.method === 'GET') {
      const listing = this.deps.portListing;
      if (listing === undefined)
        return answer(404, { status: 404, message: "this server's ports are not served" });
      listing().then(
        (ports) => answer(200, ports),
        (err: unknown) => {
          log(`listing ports: ${describeError(err)}`);
          answer(500, { status: 500, message: 'cannot list the ports' });
        },
      );
      return;
    }
    const known = (PRIVATE_PATHS as readonly string[]).includes(path);
    answer(known ? 405 : 404, {
      status: known ? 405 : 404,
      message: known ? 'method not allowed' : 'no such endpoint',
    });
  }

  private internalError(req: IncomingMessage, res: ServerResponse, err: unknown): void {
    log(`internal error: ${describeError(err)}`);
    sendPage(req, res, 500, 'internal error in hubapps-proxy; see the server log', this.page);
  }
}

/** A query value as a whole number >= 0; anything else counts as 0. */
function wholeNumber(value: string | null): number {
  const n = Number(value ?? 0);
  return Number.isInteger(n) && n > 0 ? n : 0;
}

function expectsContinue(req: IncomingMessage): boolean {
  return /100-continue/i.test(req.headers.expect ?? '');
}

/** The service's own calls: loopback, not forwarded by CHP, to one of the private paths. */
function isPrivateCall(url: string, req: IncomingMessage): boolean {
  const path = url.split('?')[0];
  return (
    req.headers['x-forwarded-for'] === undefined &&
    (PRIVATE_PATHS as readonly (string | undefined)[]).includes(path)
  );
}

const PRIVATE_PATHS = Object.values(PROXY_ENDPOINTS);

function redirect(res: ServerResponse, location: string, setCookie?: string | string[]): void {
  res.writeHead(302, {
    location,
    ...(setCookie === undefined ? {} : { 'set-cookie': setCookie }),
    'cache-control': 'no-store',
    'content-length': 0,
  });
  res.end();
}

/** A JSON answer; `prove` adds the proof header over the exact bytes sent. */
function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  prove?: (text: Buffer) => string,
): void {
  const text = Buffer.from(JSON.stringify(body));
  const headers: Record<string, string | number> = {
    'content-type': 'application/json',
    'content-length': text.length,
    'cache-control': 'no-store',
  };
  if (prove) headers[PROOF_HEADER] = prove(text);
  res.writeHead(status, headers);
  res.end(text);
}

/**
 * CHP 5.3 reaches a unix-socket target without an agent: it sends `connection: close` with
 * every request and closes the connection itself once the answer is in. Closing first from
 * this side made CHP fail about one POST in four with EPIPE (its 503 "Proxy Target
 * Missing"); leaving the close to the client fails none. A request waiting for 100 Continue
 * is left alone, so that Node still closes its connection after a refusal. Only on a
 * socket: to a TCP target (a hub server, a Slurm job's proxy) CHP sends the client's
 * `connection: close` through Node's keep-alive agent, which keeps a connection the answer
 * calls keep-alive and sends the next request on it, and Node's parser reads nothing after a
 * `close` request: that request got a bare 400, every second one through CHP.
 */
function leaveCloseToClient(req: IncomingMessage, res: ServerResponse): void {
  if (req.headers.expect === undefined && req.headers.connection?.toLowerCase() === 'close')
    res.shouldKeepAlive = true;
}

/**
 * Listen on a unix socket, then open it to its group: the directory is setgid, so the
 * group is the one of the service and CHP. Until the chmod the file has the proxy's
 * umask (at most 0755), which lets nobody else connect, so there is no window.
 */
export function listenSocket(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => {
      reject(
        errnoCode(err) === 'EADDRINUSE'
          ? new HubappsError('socket_in_use', `the socket ${path} exists already`)
          : err,
      );
    };
    server.once('error', onError);
    server.listen({ path, exclusive: true }, () => {
      server.off('error', onError);
      try {
        chmodSync(path, 0o660);
        resolve();
      } catch (err) {
        reject(err);
      }
    });
  });
}

/** Listen on 127.0.0.1:port; a taken port becomes HubappsError('port_in_use'). */
export function listenLoopback(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => {
      reject(
        errnoCode(err) === 'EADDRINUSE'
          ? new HubappsError('port_in_use', `port ${port} on 127.0.0.1 is already in use`)
          : err,
      );
    };
    server.once('error', onError);
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
