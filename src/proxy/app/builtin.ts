/**
 * Built-in apps (`builtin:` in a catalog file) run inside the proxy instead of as a
 * command: each serves on the unix socket of its launch plan and the proxy forwards to
 * it like to any app, so the path, credential and Origin checks and the activity
 * tracking are the same. An app's code is imported only when it is started, so the
 * proxies of other apps never load node-pty or xterm.js.
 */
import type { RunningApp } from './app-process.js';
import type { BuiltinContext } from './builtin-context.js';

export async function startBuiltin(ctx: BuiltinContext): Promise<RunningApp> {
  switch (ctx.plan.builtin) {
    case 'terminal': {
      const { startTerminal } = await import('../../apps/terminal/index.js');
      return startTerminal(ctx);
    }
    case undefined:
      throw new Error('startBuiltin needs a plan for a built-in app');
  }
}
