import { request } from 'node:http';

/**
 * The hubapps REST API as a benchmark client sees it: timed calls with the admin token, and
 * following a start through its progress stream (Server-Sent Events) until it settles, as
 * the launcher page does.
 */

export interface Timed<T = any> {
  status: number;
  body: T;
  /** Wall time of the call, ms. */
  ms: number;
}

export class ApiClient {
  constructor(
    /** e.g. http://127.0.0.1:PORT/services/hubapps/api */
    readonly base: string,
    private readonly token: string,
  ) {}

  /** One call on a fresh connection (as curl makes it): no pooled socket can outlive a restarted service. */
  call(method: string, path: string, body?: unknown): Promise<Timed> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string | number> = { authorization: `token ${this.token}` };
    if (payload !== undefined)
      Object.assign(headers, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(payload),
      });
    const t0 = performance.now();
    return new Promise((resolve, reject) => {
      const req = request(
        `${this.base}${path}`,
        { method, headers, agent: false, timeout: 60_000 },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.once('error', reject);
          res.once('end', () => {
            const ms = performance.now() - t0;
            let parsed: unknown = text;
            try {
              parsed = JSON.parse(text);
            } catch {
              // not JSON: the text is kept for the error message
            }
            resolve({ status: res.statusCode ?? 0, body: parsed, ms });
          });
        },
      );
      req.once('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within 60 s`)));
      req.once('error', reject);
      req.end(payload);
    });
  }

  /** Start a server; throws unless the API accepted it (202). */
  async start(user: string, name: string, app: string): Promise<Timed> {
    const r = await this.call('POST', `/users/${user}/servers/${name}`, { app });
    if (r.status !== 202)
      throw new Error(`starting ${user}/${name} answered ${r.status}: ${JSON.stringify(r.body)}`);
    return r;
  }

  /** Follow the progress stream until its 'done' event; resolves with the server's final state. */
  settled(
    user: string,
    name: string,
    timeoutMs = 30_000,
  ): Promise<{ state: string; reason: string | null }> {
    const url = `${this.base}/users/${user}/servers/${name}/progress`;
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        { headers: { authorization: `token ${this.token}` }, agent: false },
        (res) => {
          if (res.statusCode !== 200) {
            res.resume();
            return reject(new Error(`progress of ${user}/${name} answered ${res.statusCode}`));
          }
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            text += c;
            const done = /event: done\ndata: (.*)\n\n/.exec(text);
            if (!done) return;
            clearTimeout(timer);
            resolve(JSON.parse(done[1]!) as { state: string; reason: string | null });
            req.destroy();
          });
          res.once('error', reject);
          res.once('close', () =>
            reject(
              new Error(`the progress stream of ${user}/${name} ended without a 'done' event`),
            ),
          );
        },
      );
      // The stream sends keep-alives, so a socket idle timeout would never fire: the limit is absolute.
      const timer = setTimeout(
        () => req.destroy(new Error(`${user}/${name} did not settle within ${timeoutMs} ms`)),
        timeoutMs,
      );
      req.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      req.end();
    });
  }
}

/** GET through CHP until the app itself answers (its body), as a browser would after the start. */
export async function firstAnswer(
  url: string,
  headers: Record<string, string>,
  expectBody: string,
  timeoutMs = 10_000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < end) {
    const res = await fetch(url, {
      headers,
      redirect: 'manual',
      signal: AbortSignal.timeout(5000),
    });
    const body = await res.text();
    if (res.status === 200 && body === expectBody) return;
    last = `HTTP ${res.status}`;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`${url} did not answer with the app within ${timeoutMs} ms (last: ${last})`);
}
