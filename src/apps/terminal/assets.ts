/**
 * The files the terminal page loads: xterm.js, its CSS and the fit addon straight from
 * their installed packages (found the way an import would find them, so the install's
 * dependency scan sees them), plus the page and its script, which live in memory.
 * Files are streamed from disk, not held: most proxies never serve them twice.
 */
import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { BROWSER_SCRIPT } from './browser-script.js';
import { ICON_SVG, pageHtml, type PageInfo } from './page.js';

type Asset = { file: string; type: string } | { text: string; type: string; etag: string };

const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';

/**
 * Same-origin scripts only; xterm.js sets inline styles, so styles may be inline. The
 * Referer goes to this origin only: the proxy needs it to tell the page's own requests from
 * another server's page.
 */
const PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'self'; style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
};

export class Assets {
  private readonly assets: Map<string, Asset>;

  constructor(page: PageInfo) {
    // Literal specifiers, so that the install's import scan finds the packages.
    const packaged = (url: string, type: string): Asset => ({ file: fileURLToPath(url), type });
    const inMemory = (text: string, type: string): Asset => ({
      text,
      type,
      etag: `"${createHash('sha256').update(text).digest('base64url').slice(0, 22)}"`,
    });
    this.assets = new Map([
      ['', inMemory(pageHtml(page), 'text/html; charset=utf-8')],
      ['terminal.js', inMemory(BROWSER_SCRIPT, JS)],
      ['icon.svg', inMemory(ICON_SVG, 'image/svg+xml')],
      ['xterm.js', packaged(import.meta.resolve('@xterm/xterm/lib/xterm.js'), JS)],
      ['xterm.css', packaged(import.meta.resolve('@xterm/xterm/css/xterm.css'), CSS)],
      ['addon-fit.js', packaged(import.meta.resolve('@xterm/addon-fit/lib/addon-fit.js'), JS)],
    ]);
  }

  has(name: string): boolean {
    return this.assets.has(name);
  }

  /** Answer GET/HEAD for `name` (a key of this set); revalidated with ETags, never cached blindly. */
  send(name: string, req: IncomingMessage, res: ServerResponse): void {
    const asset = this.assets.get(name)!;
    let etag: string;
    let length: number;
    if ('text' in asset) {
      etag = asset.etag;
      length = Buffer.byteLength(asset.text);
    } else {
      const info = statSync(asset.file);
      etag = `"${info.size.toString(36)}-${Math.floor(info.mtimeMs).toString(36)}"`;
      length = info.size;
    }
    const headers = {
      'content-type': asset.type,
      etag,
      'cache-control': 'no-cache',
      ...PAGE_HEADERS,
    };
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, headers);
      return void res.end();
    }
    res.writeHead(200, { ...headers, 'content-length': length });
    if (req.method === 'HEAD') return void res.end();
    if ('text' in asset) return void res.end(asset.text);
    createReadStream(asset.file)
      .on('error', () => res.destroy())
      .pipe(res);
  }
}
