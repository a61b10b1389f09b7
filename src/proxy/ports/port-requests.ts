/**
 * Requests for the user's own ports (route.ts), through the same checks as the server's in
 * this order: the admin's policy (policy.ts); CORS for an allowed origin (cors.ts); the
 * path, the request's source and Origin (the port's own origin on a port host) and the
 * credential (http/admission.ts, the server's gate); the service's answer for this user
 * and port (port-access.ts); the listener (listener-check.ts). Only then does the request
 * go to 127.0.0.1:PORT, on a connection that proves whose listener accepted it
 * (checked-connect.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { errnoCode } from '../../errors.js';
import type { StartRequest } from '../../protocol/wire.js';
import type { Access } from '../access/gate.js';
import type { Activity } from '../http/activity.js';
import { admit, settle, type Admission, type AdmissionContext } from '../http/admission.js';
import type { Forwarder } from '../http/forward.js';
import { OriginPolicy } from '../http/origin.js';
import { refuseUpgrade, sendPage, type PageOptions } from '../http/pages.js';
import { describeError, log } from '../log.js';
import { httpConnector, PortHijacked, undiciConnector } from './checked-connect.js';
import { allowedCorsOrigin, answerPreflight, corsHeaders, isPreflight, tokenOnly } from './cors.js';
import { PortForwarders, portForwardOptions } from './forwarders.js';
import {
  checkListener,
  nothingListens,
  type ListenerFacts,
  type OwnerInfo,
} from './listener-check.js';
import { refusePort, type OwnPorts, type Refusal } from './policy.js';
import { PortSockets } from './port-sockets.js';
import type { PortAccess } from './port-access.js';
import {
  portFromHost,
  portFromPath,
  serverIdentity,
  type PortRedirect,
  type PortRoute,
  type ServerIdentity,
} from './route.js';

export interface PortDeps {
  request: StartRequest & { ports: NonNullable<StartRequest['ports']> };
  access: Access;
  /** The server's origins (the path layout's ports share them). */
  origins: OriginPolicy;
  activity: Activity;
  portAccess: PortAccess;
  facts: ListenerFacts;
  /** How often open WebSockets to ports are asked about again (the session re-validation interval). */
  revalidateMs: number;
  /** The owner's uid: the proxy runs as the owner. */
  uid: number;
  ownPorts: () => OwnPorts;
  /** The forwarding core, once loaded (it loads while the app starts). */
  forwarderClass: () => typeof Forwarder | null;
  page: PageOptions;
  /** The server's own answer to a request its gate did not let in (a redirect to authorize, a sign-in page, an error page). */
  refused: (req: IncomingMessage, res: ServerResponse, d: Admission & { ok: false }) => void;
}

export class PortRequests {
  private readonly forwarders = new PortForwarders();
  private readonly sockets: PortSockets;
  /** When each port last passed the listener check (performance.now()). */
  private readonly listenerPassed = new Map<string, number>();
  /** Whose ports these are, for the listener check and its messages. */
  private readonly owner: OwnerInfo;
  /** Set on per-server origins: port hosts are recognised by their label. */
  private readonly identity: ServerIdentity | null;

  constructor(private readonly deps: PortDeps) {
    const r = deps.request;
    this.sockets = new PortSockets(deps.portAccess, deps.revalidateMs);
    this.identity =
      r.ownOrigin === true ? serverIdentity(r.server.user, r.server.name, r.publicOrigin) : null;
    this.owner = { owner: r.server.user, server: r.server.name, uid: deps.uid };
  }

  /** The port a request is for, a redirect to add a slash, or null (the server's own request). */
  route(req: IncomingMessage, url: string): PortRoute | PortRedirect | null {
    if (this.identity !== null) return portFromHost(req.headers.host, this.identity);
    return portFromPath(url, this.deps.request.prefix);
  }

  request(req: IncomingMessage, res: ServerResponse, route: PortRoute): void {
    const url = req.url ?? '/';
    const policy = this.deps.request.ports;
    const cors = allowedCorsOrigin(req, route.port, policy);
    const page = cors === null ? this.deps.page : { ...this.deps.page, headers: corsHeaders(cors) };
    const refuse = (r: Refusal): void => sendPage(req, res, r.status, r.message, page);
    const policyRefusal = refusePort(route.port, route.kind, policy, this.deps.ownPorts());
    if (policyRefusal !== null) return refuse(policyRefusal);
    if (cors !== null) {
      if (isPreflight(req)) return answerPreflight(req, res, cors);
      const token = tokenOnly(req);
      if (!token.ok) return sendPage(req, res, 401, token.message, page);
    }
    settle(
      admit(req, url, false, this.admission(route, cors !== null)),
      (d) => {
        if (!d.ok)
          return cors === null
            ? this.deps.refused(req, res, d)
            : sendPage(req, res, d.status, d.message, page);
        this.mayUse(d.user, route).then(
          (r) => {
            if (r !== null) return refuse(r);
            const fwd = this.forwarder(route);
            if (fwd === null) return refuse(STARTING);
            this.deps.activity.touch();
            if (cors !== null)
              for (const [k, v] of Object.entries(corsHeaders(cors))) res.setHeader(k, v);
            // Only now, past every check, is a client waiting for "100 Continue" invited to send its body.
            if (/100-continue/i.test(req.headers.expect ?? '')) res.writeContinue();
            fwd.web(req, res);
          },
          (err: unknown) => this.internalError(req, res, err),
        );
      },
      (err) => this.internalError(req, res, err),
    );
  }

  upgrade(req: IncomingMessage, socket: Socket, head: Buffer, route: PortRoute): void {
    const url = req.url ?? '/';
    const policyRefusal = refusePort(
      route.port,
      route.kind,
      this.deps.request.ports,
      this.deps.ownPorts(),
    );
    if (policyRefusal !== null)
      return refuseUpgrade(socket, policyRefusal.status, policyRefusal.message);
    const failed = (err: unknown): void => {
      log(`internal error: ${describeError(err)}`);
      refuseUpgrade(socket, 500, 'internal error');
    };
    settle(
      admit(req, url, true, this.admission(route, false)),
      (d) => {
        if (!d.ok) return refuseUpgrade(socket, d.status, d.message);
        this.mayUse(d.user, route).then((r) => {
          if (r !== null) return refuseUpgrade(socket, r.status, r.message);
          const fwd = this.forwarder(route);
          if (fwd === null) return refuseUpgrade(socket, STARTING.status, STARTING.message);
          this.deps.activity.touch();
          this.deps.access.track(req, socket);
          this.sockets.track(socket, { user: d.user, port: route.port, kind: route.kind });
          fwd.ws(req, socket, head);
        }, failed);
      },
      failed,
    );
  }

  close(): void {
    this.forwarders.close();
  }

  /** The service's answer for this user, then the listener: null when the request may go. */
  private async mayUse(user: string, route: PortRoute): Promise<Refusal | null> {
    const access = await this.deps.portAccess.check(user, route.port, route.kind);
    if (access !== null) return access;
    const key = `${route.port}/${route.kind}`;
    const now = performance.now();
    const passed = this.listenerPassed.get(key);
    if (passed !== undefined && now - passed < LISTENER_PASS_MS) return null;
    const refusal = await checkListener(route.port, route.kind, this.owner, this.deps.facts);
    if (refusal === null) this.listenerPassed.set(key, now);
    else this.listenerPassed.delete(key);
    return refusal;
  }

  private admission(route: PortRoute, corsAllowed: boolean): AdmissionContext {
    const r = this.deps.request;
    const embedders = r.framing.embedders ?? [];
    if (route.origin === undefined)
      // The path layout: a port is part of its server's address, as its session cookie is.
      return {
        access: this.deps.access,
        origins: this.deps.origins,
        own: r.prefix,
        embedders,
        corsAllowed,
      };
    return {
      access: this.deps.access,
      origins: new OriginPolicy(route.origin, []),
      own: '/',
      embedders,
      port: { port: route.port, kind: route.kind },
      corsAllowed,
    };
  }

  private forwarder(route: PortRoute): Pick<Forwarder, 'web' | 'ws'> | null {
    const Fwd = this.deps.forwarderClass();
    return Fwd === null ? null : this.forwarders.get(route, () => this.makeForwarder(Fwd, route));
  }

  private makeForwarder(Fwd: typeof Forwarder, route: PortRoute): Forwarder {
    const r = this.deps.request;
    const target = { port: route.port, uid: this.deps.uid };
    return new Fwd(
      portForwardOptions(
        route,
        {
          publicOrigin: r.publicOrigin,
          framing: r.framing,
          activity: this.deps.activity,
          onError: (err, req, res, status) => this.forwardError(err, route, req, res, status),
        },
        { http: undiciConnector(target), upgrade: httpConnector(target) },
      ),
    );
  }

  private forwardError(
    err: Error,
    route: PortRoute,
    req: IncomingMessage,
    res: ServerResponse | Socket,
    status: 502 | 504 = 502,
  ): void {
    const hijacked = inCauses(err, (e) => e instanceof PortHijacked);
    // The next request checks the listener again rather than trust a pass from before the failure.
    this.listenerPassed.delete(`${route.port}/${route.kind}`);
    const gone = inCauses(err, (e) => errnoCode(e) === 'ECONNREFUSED')
      ? nothingListens(route.port, route.kind, this.owner)
      : null;
    log(`port ${route.port}: forwarding failed: ${describeError(err)}`);
    const answer: Refusal | { status: 502 | 504; message: string } = gone
      ? gone
      : hijacked
        ? {
            status: hijacked.message.includes('another account') ? 403 : 404,
            message: hijacked.message,
          }
        : {
            status,
            message:
              status === 504
                ? `the program on port ${route.port} did not answer the WebSocket handshake in time`
                : `the program on port ${route.port} does not answer`,
          };
    if ('writeHead' in res) sendPage(req, res, answer.status, answer.message, this.deps.page);
    else refuseUpgrade(res, answer.status, answer.message);
  }

  private internalError(req: IncomingMessage, res: ServerResponse, err: unknown): void {
    log(`internal error: ${describeError(err)}`);
    sendPage(req, res, 500, 'internal error in hubapps-proxy; see the server log', this.deps.page);
  }
}

/**
 * How long a port that passed the listener check is not checked again. Looking for the
 * listener's holder reads every fd of the server's processes, which cost more than the
 * forwarding itself on a keep-alive connection (docs/benchmarks.md, run 12); a program that
 * frees the port meanwhile is caught by the check of each new connection (checked-connect.ts).
 */
const LISTENER_PASS_MS = 1000;

const STARTING: Refusal = { status: 503, message: 'the server is starting; try again shortly' };

/** The error, or the first in its cause chain, that `match` picks: undici wraps the connector's errors. */
function inCauses(err: unknown, match: (e: Error) => boolean): Error | null {
  for (let e = err; e instanceof Error; e = e.cause) if (match(e)) return e;
  return null;
}
