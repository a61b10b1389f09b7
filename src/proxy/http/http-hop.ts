/**
 * One HTTP exchange with the app over a keep-alive pool of undici connections (loopback
 * TCP or the app's unix socket). Both bodies stream: the client's upload is read only as
 * fast as the app takes it, and the app's answer is paused whenever the client's socket
 * is full, so a 500 MB download never sits in the proxy's memory. A client that goes away
 * aborts the exchange, which closes the connection to the app.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher, Pool as UndiciPool } from 'undici';
import Pool from 'undici/lib/dispatcher/pool.js';
import type { AppTarget } from '../app/launch-plan.js';

/** Changes the app's response headers in place before they go to the client. */
export type ResponseRewrite = (headers: IncomingHttpHeaders, req: IncomingMessage) => void;
export type HopError = (err: Error, req: IncomingMessage, res: ServerResponse) => void;

/** Headers that describe one connection, not the message: each side of the hop has its own. */
const REQUEST_HOP_HEADERS = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'expect',
  'http2-settings',
]);
const RESPONSE_HOP_HEADERS = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'trailer',
  'upgrade',
];

export class HttpHop {
  private readonly pool: UndiciPool;

  /** `connect`: opens the pool's connections instead of undici (a user's port checks who accepted them). */
  constructor(
    target: AppTarget,
    private readonly rewrite: ResponseRewrite | undefined,
    private readonly onError: HopError,
    connect?: UndiciPool.Options['connect'],
  ) {
    // No body or header timeouts: long polls, event streams and slow uploads are the app's business.
    const common = {
      headersTimeout: 0,
      bodyTimeout: 0,
      keepAliveTimeout: 4000,
      ...(connect === undefined ? {} : { connect }),
    };
    this.pool =
      'port' in target
        ? new Pool(`http://127.0.0.1:${target.port}`, common)
        : new Pool('http://localhost', { ...common, socketPath: target.socket });
  }

  /** Send `req` (headers already prepared) to the app and its answer to `res`. */
  forward(req: IncomingMessage, res: ServerResponse): void {
    const h = req.headers;
    // Node's parser has already de-chunked the body; the length or chunked framing is re-decided for the app.
    const hasBody =
      h['content-length'] !== undefined
        ? h['content-length'] !== '0'
        : h['transfer-encoding'] !== undefined;
    const exchange = new Exchange(req, res, this.rewrite, this.onError);
    this.pool.dispatch(
      {
        path: req.url!,
        method: req.method!,
        headers: forwardedHeaders(h),
        body: hasBody ? req : null,
      },
      exchange,
    );
  }

  close(): void {
    // eslint-disable-next-line no-restricted-syntax -- at close the pool's sockets go with the process; nothing is left to report to
    void this.pool.destroy().catch(() => undefined);
  }
}

/** The request's headers as undici's flat [name, value, ...] list, without the hop-by-hop ones. */
function forwardedHeaders(h: IncomingHttpHeaders): string[] {
  const out: string[] = [];
  for (const name in h) {
    const value = h[name];
    if (value === undefined || REQUEST_HOP_HEADERS.has(name)) continue;
    if (typeof value === 'string') out.push(name, value);
    else for (const v of value) out.push(name, v);
  }
  return out;
}

class Exchange implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | null = null;
  /** The client left before the answer was complete: nothing more to report. */
  private gone = false;

  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly rewrite: ResponseRewrite | undefined,
    private readonly fail: HopError,
  ) {
    res.on('drain', () => this.controller?.resume());
    res.once('close', () => {
      if (res.writableFinished) return;
      this.gone = true;
      this.controller?.abort(new Error('the client closed the connection'));
    });
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.gone) controller.abort(new Error('the client closed the connection'));
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    status: number,
    headers: IncomingHttpHeaders,
    statusMessage?: string,
  ): void {
    if (status < 200) return;
    for (const name of RESPONSE_HOP_HEADERS) delete headers[name];
    // undici gives a header seen once as a string; Node's client (and the rewriters) always give set-cookie as a list.
    const cookies: unknown = headers['set-cookie'];
    if (typeof cookies === 'string') headers['set-cookie'] = [cookies];
    this.rewrite?.(headers, this.req);
    try {
      this.res.writeHead(status, statusMessage || undefined, headers);
    } catch (err) {
      // A header Node refuses to send (e.g. a control character in it) is the app's error: 502, not a crash.
      this.gone = true;
      controller.abort(err as Error);
      this.fail(err as Error, this.req, this.res);
    }
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.res.write(chunk)) controller.pause();
  }

  onResponseEnd(): void {
    this.res.end();
  }

  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    if (this.gone) return;
    if (this.res.headersSent) this.res.destroy();
    else this.fail(err, this.req, this.res);
  }
}
