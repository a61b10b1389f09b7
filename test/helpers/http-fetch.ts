/**
 * A fetch() look-alike over node:http that sends headers exactly as given: Node's fetch
 * forces `sec-fetch-mode: cors`, so it cannot play a browser's page load or frame.
 * Never follows redirects.
 */
import { request } from 'node:http';

export function httpFetch(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string | null } = {},
): Promise<Response> {
  return new Promise((resolve, reject) => {
    const headers = init.headers ?? {};
    const req = request(url, { method: init.method ?? 'GET', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.once('end', () => {
        const out = new Headers();
        for (const [name, value] of Object.entries(res.headers)) {
          for (const v of Array.isArray(value) ? value : [value ?? '']) out.append(name, v);
        }
        const status = res.statusCode ?? 0;
        const body = status === 204 || status === 304 ? null : Buffer.concat(chunks);
        resolve(new Response(body, { status, headers: out }));
      });
      res.once('error', reject);
    });
    req.once('error', reject);
    req.end(typeof init.body === 'string' ? init.body : undefined);
  });
}
