/**
 * The reverse proxy to the app, for HTTP (http-hop.ts: an undici pool) and WebSocket
 * upgrades (ws-hop.ts: a socket pipe), to a loopback port or a unix socket. Requests are
 * adjusted in place before they go (prefix stripped, X-Forwarded-*), bodies stream
 * through untouched.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Activity } from './activity.js';
import type { AppTarget } from './launch-plan.js';
import { HttpHop, type ResponseRewrite } from './http-hop.js';
import { pipeUpgrade } from './ws-hop.js';
import { PrefixRewriter } from './rewrite.js';

export interface ForwardOptions {
  target: AppTarget;
  /** e.g. /apps/alice/rstudio/ */
  prefix: string;
  stripPrefix: boolean;
  publicOrigin: string;
  activity: Activity;
  /** The app could not be reached (or the connection broke); `res` is the socket for upgrades. */
  onError: (err: Error, req: IncomingMessage, res: ServerResponse | Socket) => void;
}

export class Forwarder {
  private readonly http: HttpHop;
  private readonly base: string;
  private readonly proto: string;
  private readonly publicHost: string;
  /** What the app considers its own origin and host: WebSocket handshakes are rewritten to it. */
  private readonly appOrigin: string;
  private readonly appHost: string;
  private readonly onWebError: (err: Error, req: IncomingMessage, res: ServerResponse | Socket) => void;

  constructor(private readonly opts: ForwardOptions) {
    const pub = new URL(opts.publicOrigin);
    this.base = opts.prefix.slice(0, -1);
    this.proto = pub.protocol.slice(0, -1);
    this.publicHost = pub.host;
    this.appHost = 'port' in opts.target ? `127.0.0.1:${opts.target.port}` : 'localhost';
    this.appOrigin = `http://${this.appHost}`;
    this.onWebError = opts.onError;
    this.http = new HttpHop(opts.target, opts.stripPrefix ? this.rewriteResponses() : undefined, this.onWebError);
  }

  web(req: IncomingMessage, res: ServerResponse): void {
    this.prepare(req, false);
    this.http.forward(req, res);
  }

  ws(req: IncomingMessage, socket: Socket, head: Buffer): void {
    this.prepare(req, true);
    pipeUpgrade(this.opts.target, req, socket, head, this.opts.activity.touch, this.onWebError);
  }

  close(): void {
    this.http.close();
  }

  /** Adjust the request in place; `req.url` is known to start with the prefix. */
  private prepare(req: IncomingMessage, upgrade: boolean): void {
    const h = req.headers;
    const remote = req.socket.remoteAddress ?? '';
    const xff = h['x-forwarded-for'];
    h['x-forwarded-for'] = xff ? `${xff}, ${remote}` : remote;
    h['x-forwarded-proto'] = this.proto;
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
      delete h['x-forwarded-host'];
    } else {
      h['x-forwarded-host'] = this.publicHost;
    }
  }

  private rewriteResponses(): ResponseRewrite {
    const ownHosts = new Set([this.appHost, `localhost${'port' in this.opts.target ? `:${this.opts.target.port}` : ''}`, this.publicHost]);
    const rewriter = new PrefixRewriter(this.opts.prefix, ownHosts);
    return (headers: IncomingHttpHeaders, req: IncomingMessage) => {
      if (headers.location !== undefined) headers.location = rewriter.location(headers.location, req.headers.host);
      const cookies = headers['set-cookie'];
      if (cookies !== undefined) headers['set-cookie'] = cookies.map((c) => rewriter.setCookie(c));
    };
  }
}
