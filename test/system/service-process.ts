import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '../helpers/wait.js';
import { allProcesses, isAlive, parentOf } from './proc-scan.js';

/**
 * `hubapps serve` as production runs it: its own process, as the service user, started
 * here with `runuser -u USER -- node cli.js serve --config FILE`. runuser stays as the
 * parent (it holds the PAM session), so the service's own pid is runuser's child.
 */
export interface ServiceProcess {
  /** pid of `node cli.js serve`. */
  pid: number;
  /** What the service printed so far (the newest 20 kB), for failure messages. */
  output(): string;
  /** SIGKILL the service, as a crash or the OOM killer would, and wait until it is gone. */
  kill9(): Promise<void>;
  /** SIGTERM (a clean shutdown: servers keep running), SIGKILL after 5 s. */
  stop(): Promise<void>;
}

export interface ServiceProcessOptions {
  user: string;
  cliPath: string;
  configFile: string;
  /** The service's API health URL: it is up once this answers. */
  healthUrl: string;
  timeoutMs?: number;
  /** More variables for the service's environment (as its unit's Environment= would set). */
  env?: Record<string, string>;
}

export async function startServiceProcess(opts: ServiceProcessOptions): Promise<ServiceProcess> {
  const argv = [
    '-u',
    opts.user,
    '--',
    process.execPath,
    opts.cliPath,
    'serve',
    '--config',
    opts.configFile,
  ];
  const runner = spawn('/usr/sbin/runuser', argv, {
    cwd: '/',
    env: {
      PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      LANG: 'C.UTF-8',
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString('utf8')).slice(-20_000));
  runner.stdout.on('data', keep);
  runner.stderr.on('data', keep);
  let exited = false;
  runner.once('exit', () => (exited = true));
  runner.once('error', (err) => keep(Buffer.from(`runuser: ${err.message}\n`)));

  // Exiting early is an answer too: waitFor would otherwise sit out its whole timeout.
  const found = await waitFor(() => (exited ? 'exited' : childOf(runner.pid, opts.cliPath)), {
    timeout: 5000,
    what: 'the service process to exist',
  }).catch((err: Error) => err.message);
  if (typeof found !== 'number')
    throw new Error(`the service did not start (${found}); its output:\n${output}`);
  const pid = found;
  // A test run that ends abruptly must not leave the service behind.
  const killOnExit = () => signal(pid, 'SIGKILL');
  process.on('exit', killOnExit);
  const service: ServiceProcess = {
    pid,
    output: () => output,
    async kill9() {
      signal(pid, 'SIGKILL');
      await waitGone(pid, 5000);
      process.off('exit', killOnExit);
    },
    async stop() {
      signal(pid, 'SIGTERM');
      if (!(await waitGone(pid, 5000))) signal(pid, 'SIGKILL');
      await waitGone(pid, 2000);
      process.off('exit', killOnExit);
    },
  };
  try {
    const up = await waitFor(
      async () => (isAlive(pid) ? (await answers(opts.healthUrl)) && 'up' : 'exited'),
      {
        timeout: opts.timeoutMs ?? 15_000,
        interval: 100,
        what: `the service to answer ${opts.healthUrl}`,
      },
    );
    if (up === 'exited') throw new Error('the service exited before it answered');
  } catch (err) {
    await service.stop();
    throw new Error(`${(err as Error).message}; its output:\n${output}`, { cause: err });
  }
  return service;
}

function childOf(parent: number | undefined, needle: string): number | undefined {
  if (!parent) return undefined;
  return allProcesses().find((p) => parentOf(p.pid) === parent && p.argv.includes(needle))?.pid;
}

async function answers(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  await res.body?.cancel();
  return res.status === 200;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

async function waitGone(pid: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (isAlive(pid)) {
    if (Date.now() > end) return false;
    await sleep(50);
  }
  return true;
}
