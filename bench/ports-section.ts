/**
 * Users' own ports (issue 26): the same program reached as the server's app, as a user's
 * port through the same proxy (`ports/PORT/`: policy, gate, the cached port-access answer,
 * the listener check, the post-connect check of every new connection), and directly
 * through CHP. HTTP with keep-alive (1 and 32 connections), HTTP with a new connection to
 * the program per request (where the checks per connection show), and the WebSocket echo.
 */
import { readFileSync } from 'node:fs';
import { measureHttp, measureWs, type HopSettings, type HttpFigure, type WsFigure } from './hop.js';
import { startPortsStack } from './ports-stack.js';
import { Processes } from './procs.js';
import type { RunContext } from './run-context.js';

export interface PortsOptions extends HopSettings {
  /** wrk connections, rounds and seconds for the new-connection-per-request runs: kept short, since every request leaves a loopback port in TIME_WAIT for 60 s and the ~28,000 ephemeral ports run out (a 5-s third round once got only errors). */
  closeConnections: number;
  closeRounds: number;
  closeSeconds: number;
}

export interface PortsReport {
  settings: PortsOptions;
  port: number;
  http: HttpFigure[];
  /** Each request on a new connection to the program. */
  close: HttpFigure[];
  ws: WsFigure[];
  /** Rows of /proc/net/tcp and tcp6 after the new-connection runs: what every post-connect check reads. */
  tcpRowsAfterClose: number;
  tokenChecks: number;
  portAccessCalls: number;
}

function tcpRows(): number {
  return ['/proc/net/tcp', '/proc/net/tcp6']
    .map((f) => readFileSync(f, 'utf8').trim().split('\n').length - 1)
    .reduce((a, b) => a + b, 0);
}

export async function runPortsSection(opts: PortsOptions, ctx: RunContext): Promise<PortsReport> {
  const procs = new Processes();
  const forget = ctx.onAbort(() => procs.stopAll());
  const stack = await startPortsStack(procs);
  const forgetStack = ctx.onAbort(() => stack.stop());
  try {
    ctx.note(`ports stack up: the program on port ${stack.port}`);
    const http = await measureHttp(stack.paths, opts, ctx.note);
    const ws = await measureWs(stack.paths, opts, ctx.note);
    // Last: these runs leave tens of thousands of sockets in TIME_WAIT behind.
    const close = await measureHttp(
      stack.closePaths,
      {
        ...opts,
        rounds: opts.closeRounds,
        seconds: opts.closeSeconds,
        connections: [opts.closeConnections],
        warmSeconds: 0,
      },
      ctx.note,
    );
    return {
      settings: { ...opts },
      port: stack.port,
      http,
      close,
      ws,
      tcpRowsAfterClose: tcpRows(),
      tokenChecks: stack.tokenChecks(),
      portAccessCalls: stack.portAccessCalls(),
    };
  } finally {
    await stack.stop();
    forgetStack();
    forget();
  }
}
