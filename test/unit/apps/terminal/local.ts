/**
 * A terminal session and its server on a unix socket in a temp directory, as the proxy
 * runs them, with this test's user's bash (no start-up files, a plain prompt) so the
 * output is predictable.
 */
import type { Server } from 'node:http';
import { join } from 'node:path';
import { tmpDir, type TmpDir } from '../../../helpers/index.js';
import { TermClient, type TermClientOptions } from '../../../helpers/terminal-client.js';
import { createTerminalServer, listenSocket } from '../../../../src/apps/terminal/server.js';
import { TerminalSession, type SessionLimits } from '../../../../src/apps/terminal/session.js';

export interface LocalTerminal {
  session: TerminalSession;
  server: Server;
  socket: string;
  logs: string[];
  /** A client attached over the socket; `query` is the connection's query string (e.g. cols=100&rows=30). */
  connect(opts?: TermClientOptions & { query?: string }): Promise<TermClient>;
  /** Stop the shell (if any), close the server, remove the directory. */
  close(): Promise<void>;
}

export const SHELL_ENV = {
  PATH: '/usr/local/bin:/usr/bin:/bin',
  HOME: '/tmp',
  LANG: 'C.UTF-8',
  TERM: 'xterm-256color',
  PS1: '$ ',
};

export async function localTerminal(
  opts: { limits?: Partial<SessionLimits>; env?: Record<string, string>; base?: string } = {},
): Promise<LocalTerminal> {
  const dir: TmpDir = await tmpDir('terminal');
  const socket = join(dir.path, 'terminal.sock');
  const logs: string[] = [];
  const session = new TerminalSession({
    argv: ['/bin/bash', '--noprofile', '--norc', '-i'],
    env: { ...SHELL_ENV, ...opts.env },
    cwd: dir.path,
    log: (m) => logs.push(m),
    limits: opts.limits,
  });
  const base = opts.base ?? '/';
  const server = createTerminalServer({
    base,
    page: { title: 'Terminal <test>', launcher: 'https://hub.example.org/services/hubapps/' },
    session,
    log: (m) => logs.push(m),
  });
  await listenSocket(server, socket);
  return {
    session,
    server,
    socket,
    logs,
    connect: ({ query = 'cols=80&rows=24', ...rest } = {}) =>
      TermClient.open(`ws+unix://${socket}:${base}socket?${query}`, rest),
    async close() {
      await session.stop(1000);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await dir.remove();
    },
  };
}
