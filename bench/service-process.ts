/**
 * `hubapps serve` in its own process (so its memory can be read and it can be killed -9),
 * with the local launcher: servers run as this user, without sudo. Its JSON log lines are
 * kept so the adoption pass's duration can be read after a restart.
 */
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Child, Processes } from './procs.js';

export const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url));

export interface ServiceLog {
  lines: Record<string, unknown>[];
}

export async function startService(
  procs: Processes,
  configFile: string,
  env: NodeJS.ProcessEnv,
  healthUrl: string,
  log: ServiceLog,
): Promise<Child> {
  let partial = '';
  const child = procs.start(
    'hubapps serve',
    process.execPath,
    [CLI, 'serve', '--config', configFile],
    {
      env,
      onOutput: (text) => {
        const lines = (partial + text).split('\n');
        partial = lines.pop()!;
        for (const line of lines) {
          try {
            log.lines.push(JSON.parse(line) as Record<string, unknown>);
          } catch {
            // not a JSON log line
          }
        }
      },
    },
  );
  const end = Date.now() + 30_000;
  while (Date.now() < end) {
    if (child.exited()) throw new Error(`the service exited; its output:\n${child.output()}`);
    try {
      const res = await fetch(healthUrl);
      await res.body?.cancel();
      if (res.status === 200) return child;
    } catch {
      // not listening yet
    }
    await sleep(20);
  }
  await child.stop();
  throw new Error(
    `the service did not answer ${healthUrl} within 30 s; its output:\n${child.output()}`,
  );
}
