/**
 * The built-in terminal app (`builtin: terminal` in a catalog file): the user's login
 * shell in a pty, shown by xterm.js in the browser. It runs inside the user's
 * hubapps-proxy, serving on the plan's unix socket, and the proxy forwards to it as to
 * any app. Loaded only by proxies that run a terminal.
 */
import { HubappsError } from '../../errors.js';
import type { RunningApp } from '../../proxy/app/app-process.js';
import type { BuiltinContext } from '../../proxy/app/builtin-context.js';
import { createTerminalServer, listenSocket } from './server.js';
import { TerminalSession } from './session.js';

export async function startTerminal(ctx: BuiltinContext): Promise<RunningApp> {
  const target = ctx.plan.target;
  if (!('socket' in target))
    throw new HubappsError(
      'terminal_target',
      'the terminal listens on a unix socket, but the launch plan names a port',
    );
  const session = new TerminalSession({
    argv: ctx.plan.argv,
    env: ctx.plan.env,
    cwd: ctx.plan.cwd,
    log: ctx.log,
    onPid: ctx.onPid,
  });
  const server = createTerminalServer({
    base: ctx.base,
    page: { title: ctx.title, launcher: ctx.launcher },
    session,
    log: ctx.log,
  });
  await listenSocket(server, target.socket);
  return {
    exited: session.exited,
    async stop(graceMs: number): Promise<void> {
      await session.stop(graceMs);
      server.closeAllConnections();
      server.close();
    },
  };
}
