/**
 * The reverse proxy to the app, for HTTP (http-hop.ts: an undici pool) and WebSocket
 * upgrades (ws-hop.ts: a socket pipe once the app has answered 101), to a loopback port or a unix socket. Requests are
 * adjusted in place before they go (prefix stripped, X-Forwarded-*), bodies stream
 * through untouched.
 */
import type {
  ClientRequestArgs,
  IncomingHttpHeaders,
  IncomingMessage,
  ServerResponse,
} from 'node:http';
import type { Pool } from 'undici';
import type { Socket } from 'node:net';
import type { Activity } from './activity.js';
import type { AppTarget } from '../app/launch-plan.js';
import { staysOnHost } from './cookie-scope.js';
import { HttpHop, type ResponseRewrite } from './http-hop.js';
import { log } from '../log.js';
import { pipeUpgrade } from './ws-hop.js';
import { PrefixRewriter } from './rewrite.js';
import { ResponseHeaders, sandboxForVisitor, setForwardedHeaders } from './headers.js';
import { USER_HEADER } from '../access/gate.js';
import type { FramingPolicy } from '../../protocol/wire.js';

export interface ForwardOptions {
  target: AppTarget;
  /** e.g. /apps/alice/rstudio/ */
  prefix: string;
  stripPrefix: boolean;
  publicOrigin: string;
  /** The server has its own host (publicOrigin): cookies the app scopes to a wider Domain are dropped. */
  ownOrigin?: boolean;
  framing: FramingPolicy;
  /**
   * A server JupyterHub started, on the hub's shared origin: pages answered to anyone but
   * `owner` (the hub user; a hub admin, a role's holder) are sandboxed (headers.ts, VISITOR_SANDBOX).
   */
  visitorSandbox?: { owner: string };
  activity: Activity;
  /** A user's own port: connections are opened by these, which check who accepted them (ports/checked-connect.ts). */
  connectors?: {
    http: Pool.Options['connect'];
    upgrade: ClientRequestArgs['createConnection'];
  };
  /** The app could not be reached (or the connection broke); `res` is the socket for upgrades, with the status to tell the client. */
  onError: (
    err: Error,
    req: IncomingMessage,
    res: ServerResponse | Socket,
    status?: 502 | 504,
  ) => void;
}

export class Forwarder {
  private readonly http: HttpHop;
  private readonly base: string;
  private readonly proto: string;
  private readonly publicHost: string;
  /** What the app considers its own origin and host: WebSocket handshakes are rewritten to it. */
  private readonly appOrigin: string;
  private readonly appHost: string;
  private readonly rewrite: ResponseRewrite;

  constructor(private readonly opts: ForwardOptions) {
    const pub = new URL(opts.publicOrigin);
    this.base = opts.prefix.slice(0, -1);
    this.proto = pub.protocol.slice(0, -1);
    this.publicHost = pub.host;
    this.appHost = 'port' in opts.target ? `127.0.0.1:${opts.target.port}` : 'localhost';
    this.appOrigin = `http://${this.appHost}`;
    this.rewrite = this.rewriteResponses(opts.ownOrigin ? pub.hostname : null);
    this.http = new HttpHop(opts.target, this.rewrite, opts.onError, opts.connectors?.http);
  }

  web(req: IncomingMessage, res: ServerResponse): void {
    this.prepare(req, false);
    this.http.forward(req, res);
  }

  ws(req: IncomingMessage, socket: Socket, head: Buffer): void {
    this.prepare(req, true);
    const { target, activity, onError } = this.opts;
    const connect = this.opts.connectors?.upgrade;
    pipeUpgrade(
      {
        target,
        touch: activity.touch,
        rewrite: this.rewrite,
        onError,
        ...(connect === undefined ? {} : { connect }),
      },
      req,
      socket,
      head,
    );
  }

  close(): void {
    this.http.close();
  }

  /** Adjust the request in place; `req.url` is known to start with the prefix. */
  private prepare(req: IncomingMessage, upgrade: boolean): void {
    const h = req.headers;
    setForwardedHeaders(
      h,
      req.socket.remoteAddress ?? '',
      this.proto,
      upgrade ? null : this.publicHost,
    );
    if (this.opts.stripPrefix) {
      h['x-forwarded-prefix'] = this.base;
      req.url = req.url!.slice(this.base.length);
    } else {
      delete h['x-forwarded-prefix'];
    }
    if (upgrade) {
      // Apps compare Origin with Host (or X-Forwarded-Host): make all of them say "the app itself".
      if (h.origin !== undefined) h.origin = this.appOrigin;
      h.host = this.appHost;
    }
  }

  /** Framing and Set-Cookie confinement apply to every answer; prefix rewriting only when the prefix is stripped. */
  private rewriteResponses(cookieHost: string | null): ResponseRewrite {
    const ownHosts = new Set([
      this.appHost,
      `localhost${'port' in this.opts.target ? `:${this.opts.target.port}` : ''}`,
      this.publicHost,
    ]);
    const rewriter = this.opts.stripPrefix ? new PrefixRewriter(this.opts.prefix, ownHosts) : null;
    const headers = new ResponseHeaders(this.opts.prefix, this.opts.framing, rewriter);
    const owner = this.opts.visitorSandbox?.owner;
    return (h: IncomingHttpHeaders, req: IncomingMessage) => {
      headers.apply(h, req.headers.host);
      if (owner !== undefined && req.headers[USER_HEADER] !== owner) sandboxForVisitor(h);
      if (cookieHost !== null) keepCookiesOnHost(h, cookieHost);
    };
  }
}

/** A server with its own host drops the cookies its app scopes to a wider Domain. */
function keepCookiesOnHost(headers: IncomingHttpHeaders, host: string): void {
  const cookies = headers['set-cookie'];
  if (cookies === undefined) return;
  const kept = cookies.filter((c) => staysOnHost(c, host));
  if (kept.length < cookies.length)
    log(`dropped ${cookies.length - kept.length} cookie(s) the app scoped wider than ${host}`);
  headers['set-cookie'] = kept;
}
