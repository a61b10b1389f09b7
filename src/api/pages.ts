import type { Context } from 'koa';
import { escapeHtml } from '../http/html.js';

/** A small self-contained HTML page for the browser-facing answers (login problems, not running, refused). */
export function page(ctx: Context, status: number, title: string, bodyHtml: string): void {
  ctx.status = status;
  ctx.type = 'text/html';
  ctx.set('Cache-Control', 'no-store');
  ctx.body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · hubapps</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;line-height:1.5;color:#1b1b1b}a{color:#0b57d0}</style>
</head><body><main><h1>${escapeHtml(title)}</h1>${bodyHtml}</main></body></html>`;
}
