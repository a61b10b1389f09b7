import { PassThrough } from 'node:stream';
import type { Context } from 'koa';
import type { EventRow } from '../model/event.js';
import type { ServerRow } from '../model/server.js';
import type { ApiDeps } from './deps.js';
import { presentEvent, presentServer } from './present.js';

const TERMINAL = new Set(['running', 'stopped', 'failed']);

/**
 * Server-Sent Events for one server's start or stop: first the events already recorded
 * for this start, then new ones as they are committed, closing once the server settles
 * (running, stopped or failed). Events come from SQLite, so a client that reconnects, or
 * one served after a service restart, sees the same history.
 */
export function streamProgress(
  ctx: Context,
  deps: ApiDeps,
  row: ServerRow,
  release: () => void,
): void {
  const stream = new PassThrough();
  stream.once('close', release);
  ctx.req.once('close', release);
  ctx.req.socket.setTimeout(0);
  ctx.req.socket.setNoDelay(true);
  ctx.set({
    'Content-Type': 'text/event-stream',
    'Cache-Control': 'no-cache',
    'X-Accel-Buffering': 'no',
  });
  ctx.status = 200;
  ctx.body = stream;

  const lastSeen = Number(ctx.get('last-event-id')) || 0;
  const send = (ev: EventRow) =>
    stream.write(`id: ${ev.id}\nevent: ${ev.kind}\ndata: ${JSON.stringify(presentEvent(ev))}\n\n`);
  const finish = () => {
    const final = deps.queries.byId(row.id)!;
    stream.write(`event: done\ndata: ${JSON.stringify(presentServer(final, deps.urls))}\n\n`);
    stream.end();
  };

  const run = deps.queries.runEvents(row.id, lastSeen);
  let last = Math.max(lastSeen, run.startId - 1);
  for (const ev of run.events) {
    send(ev);
    last = ev.id;
  }
  if (TERMINAL.has(deps.queries.byId(row.id)!.state)) return finish();

  const onEvent = (ev: EventRow) => {
    if (ev.server_id !== row.id || ev.id <= last) return;
    last = ev.id;
    send(ev);
    if (ev.kind === 'state' && ev.state && TERMINAL.has(ev.state)) cleanup(true);
  };
  const keepalive = setInterval(() => stream.write(': keep-alive\n\n'), 15000);
  const cleanup = (done: boolean) => {
    clearInterval(keepalive);
    unfollow();
    if (done) finish();
  };
  const unfollow = deps.queries.follow(onEvent);
  ctx.req.on('close', () => cleanup(false));
}
