/**
 * A real JupyterHub (Debian's /usr/bin/jupyterhub) for the end-to-end test: a generated
 * config in a private temp dir, an externally started CHP (should_start = False), its own
 * process that the test stops by pid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { waitFor } from '../helpers/wait.js';
import { testHubConfig, type TestHubValues } from './hub-config.js';

export const JUPYTERHUB = '/usr/bin/jupyterhub';

export function jupyterhubInstalled(): boolean {
  return existsSync(JUPYTERHUB);
}

export interface HubOptions extends Omit<TestHubValues, 'dir'> {
  dir: string;
  password: string;
  /** More variables for the hub's environment. */
  env?: Record<string, string>;
}

export interface RunningHub {
  pid: number;
  /** The hub's API as the service reaches it, e.g. http://127.0.0.1:PORT/hub/api */
  apiUrl: string;
  /** What JupyterHub printed so far (the newest 30 kB), for failure messages. */
  output(): string;
  /** SIGTERM, SIGKILL after 5 s; resolves once the process is gone. Safe to call twice. */
  stop(): Promise<void>;
  /** SIGKILL, as a crash would (the hub cleans nothing up); resolves once the process is gone. */
  kill9(): Promise<void>;
}

export async function startHub(opts: HubOptions): Promise<RunningHub> {
  const configFile = join(opts.dir, 'jupyterhub_config.py');
  await writeFile(configFile, testHubConfig(opts), { mode: 0o600 });
  const child = spawn(JUPYTERHUB, ['-f', configFile], {
    cwd: opts.dir,
    env: {
      PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
      LANG: 'C.UTF-8',
      HOME: opts.dir,
      E2E_HUB_PASSWORD: opts.password,
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString('utf8')).slice(-30_000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);
  const hub: RunningHub = {
    pid: child.pid!,
    apiUrl: `${opts.hubBindUrl}/hub/api`,
    output: () => output,
    async stop() {
      await stopChild(child, exited);
      process.off('exit', killOnExit);
    },
    async kill9() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      process.off('exit', killOnExit);
    },
  };
  try {
    await waitFor(
      () => {
        if (child.exitCode !== null)
          throw new Error(`jupyterhub exited with code ${child.exitCode}`);
        // Printed once the hub has put its own route and the services' routes into CHP.
        return output.includes('JupyterHub is now running');
      },
      { timeout: 30_000, interval: 200, what: 'JupyterHub to run' },
    );
  } catch (err) {
    await hub.stop();
    throw new Error(`${(err as Error).message}\n--- jupyterhub output ---\n${output}`, {
      cause: err,
    });
  }
  return hub;
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
