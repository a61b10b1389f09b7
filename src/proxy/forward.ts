/**
 * The reverse proxy to the app (http-proxy-3 over a keep-alive agent), for HTTP and
 * WebSocket upgrades, to a loopback port or a unix socket. Requests are adjusted in
 * place before they go (prefix stripped, X-Forwarded-*), bodies stream through untouched.
 */
import { Agent, type ClientRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { createProxyServer, type ProxyServer } from 'http-proxy-3';
import type { Activity } from './activity.js';
import type { AppTarget } from './launch-plan.js';
import { staysOnHost } from './cookie-scope.js';
import { log } from './log.js';
import { PrefixRewriter } from './rewrite.js';
import { ResponseHeaders, setForwardedHeaders } from './headers.js';
import type { FramingPolicy } from './protocol.js';

export interface ForwardOptions {
  target: AppTarget;
  /** e.g. /apps/alice/rstudio/ */
  prefix: string;
  stripPrefix: boolean;
  publicOrigin: string;
  /** The server has its own host (publicOrigin): cookies the app scopes to a wider Domain are dropped. */
  ownOrigin?: boolean;
  framing: FramingPolicy;
  activity: Activity;
  /** The app could not be reached (or the connection broke); `res` is the socket for upgrades. */
  onError: (err: Error, req: IncomingMessage, res: ServerResponse | Socket) => void;
}

export class Forwarder {
  private readonly proxy: ProxyServer;
  private readonly agent = new Agent({ keepAlive: true, maxFreeSockets: 64, scheduling: 'lifo' });
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
    const target = 'port' in opts.target ? { host: '127.0.0.1', port: opts.target.port } : { host: 'localhost', port: 80, socketPath: opts.target.socket };
    this.proxy = createProxyServer({ target, agent: this.agent, xfwd: false, ws: true });
    // Without an 'error' listener http-proxy-3 throws; errors of client sockets on upgrades land here.
    this.proxy.on('error', (err, req, res) => opts.onError(err, req, res));
    this.proxy.on('proxyReqWs', (proxyReq, _req, socket) => this.countFrames(proxyReq, socket));
    this.rewriteResponses();
    if (opts.ownOrigin) this.keepCookiesOnHost(pub.hostname);
  }

  web(req: IncomingMessage, res: ServerResponse): void {
    this.prepare(req, false);
    this.proxy.web(req, res, this.onWebError);
  }

  ws(req: IncomingMessage, socket: Socket, head: Buffer): void {
    this.prepare(req, true);
    this.proxy.ws(req, socket, head, this.onWebError);
  }

  close(): void {
    this.agent.destroy();
  }

  /** Adjust the request in place; `req.url` is known to start with the prefix. */
  private prepare(req: IncomingMessage, upgrade: boolean): void {
    const h = req.headers;
    setForwardedHeaders(h, req.socket.remoteAddress ?? '', this.proto, upgrade ? null : this.publicHost);
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

  /** WebSocket frames in either direction are activity; listeners go on once http-proxy-3 has piped the pair. */
  private countFrames(proxyReq: ClientRequest, socket: Socket): void {
    const touch = this.opts.activity.touch;
    proxyReq.once('upgrade', (_res: IncomingMessage, proxySocket: Socket) => {
      queueMicrotask(() => {
        socket.on('data', touch);
        proxySocket.on('data', touch);
      });
    });
  }

  private keepCookiesOnHost(host: string): void {
    this.proxy.on('proxyRes', (proxyRes) => {
      const cookies = proxyRes.headers['set-cookie'];
      if (cookies === undefined) return;
      const kept = cookies.filter((c) => staysOnHost(c, host));
      if (kept.length < cookies.length) log(`dropped ${cookies.length - kept.length} cookie(s) the app scoped wider than ${host}`);
      proxyRes.headers['set-cookie'] = kept;
    });
  }

  private rewriteResponses(): void {
    const ownHosts = new Set([this.appHost, `localhost${'port' in this.opts.target ? `:${this.opts.target.port}` : ''}`, this.publicHost]);
    const rewriter = this.opts.stripPrefix ? new PrefixRewriter(this.opts.prefix, ownHosts) : null;
    const headers = new ResponseHeaders(this.opts.prefix, this.opts.framing, rewriter);
    this.proxy.on('proxyRes', (proxyRes, req) => headers.apply(proxyRes.headers, req.headers.host));
  }
}
