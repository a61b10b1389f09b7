import { promises as fs } from 'node:fs';
import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { Context, Middleware, Next } from 'koa';
import serveStatic from 'koa-static';
import { HubappsError } from '../errors.js';
import type { ApiDeps } from './deps.js';

/** Compiled to dist/src/api/ui.js; `npm run build` puts the page into dist/ui/. */
export const UI_DIR = fileURLToPath(new URL('../../ui/', import.meta.url));

/** The page loads only its own scripts and styles, and talks only to this origin. */
const PAGE_CSP =
  "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
const ASSET = /^[A-Za-z0-9_-]+\.(js|css|svg|png)$/;

/**
 * The launcher page: GET {prefix} answers index.html (never cached, so a new version is
 * picked up at once); {prefix}static/FILE serves the compiled scripts and styles, which
 * browsers revalidate (Last-Modified) instead of trusting a stale copy.
 */
export function launcherUi(deps: ApiDeps, root: string = UI_DIR): Middleware {
  const prefix = deps.urls.servicePrefix();
  const staticPrefix = `${prefix}static/`;
  const files = serveStatic(root, { index: false, setHeaders: assetHeaders });

  return async (ctx: Context, next: Next) => {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    if (ctx.path === prefix.slice(0, -1)) return ctx.redirect(`${prefix}${ctx.search}`);
    if (ctx.path === prefix) return sendIndex(ctx, root);
    if (!ctx.path.startsWith(staticPrefix)) return next();
    const file = ctx.path.slice(staticPrefix.length);
    if (!ASSET.test(file)) throw notAsset(file);
    const original = ctx.path;
    ctx.path = `/${file}`;
    try {
      await files(ctx, async () => {
        throw notAsset(file);
      });
    } finally {
      ctx.path = original;
    }
    if (ctx.fresh) {
      (ctx.body as Readable | null)?.destroy?.();
      ctx.status = 304;
    }
  };
}

async function sendIndex(ctx: Context, root: string): Promise<void> {
  const html = await fs.readFile(`${root}index.html`, 'utf8').catch((err: unknown) => {
    throw new HubappsError(
      'ui_missing',
      `the launcher page is not built (${(err as Error).message}); run npm run build`,
      { expose: true },
    );
  });
  ctx.set({
    'Cache-Control': 'no-store',
    'Content-Security-Policy': PAGE_CSP,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'same-origin',
  });
  ctx.type = 'text/html; charset=utf-8';
  ctx.body = html;
}

function assetHeaders(res: ServerResponse): void {
  res.setHeader('Cache-Control', 'no-cache');
  res.setHeader('X-Content-Type-Options', 'nosniff');
}

function notAsset(file: string): HubappsError {
  return new HubappsError('not_found', `no launcher file '${file.slice(0, 100)}'`);
}
