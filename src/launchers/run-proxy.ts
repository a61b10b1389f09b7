import { spawn } from 'node:child_process';
import { HubappsError, errnoCode } from '../errors.js';

export interface ProxyRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Run hubapps-proxy once for a short op (submit, status, cancel) with `request` on stdin,
 * and collect what it prints. For ops that end by themselves, unlike a server's proxy.
 */
export function runProxyOp(
  command: { file: string; args: string[] },
  env: NodeJS.ProcessEnv,
  request: unknown,
  timeoutMs = 60_000,
): Promise<ProxyRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command.file, command.args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      cwd: '/',
      env,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c.slice(0, 65536)));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c.slice(0, 65536)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(
        new HubappsError(
          'spawn_failed',
          `could not run ${command.file}: ${errnoCode(err) ?? err.message}; check sudo_command and proxy_command`,
          { cause: err },
        ),
      );
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(`${JSON.stringify(request)}\n`);
  });
}
