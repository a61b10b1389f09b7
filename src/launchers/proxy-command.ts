/**
 * How the service runs hubapps-proxy as a user, for every launcher (host and Slurm): the
 * command and the environment, each built here once.
 */
import { proxyArgs, proxyCommandLine, spawnCommand } from '../proxy/command-line.js';

export interface Command {
  file: string;
  args: string[];
}

/**
 * `sudo -n -u USER -- PROXY` and nothing more: the sudoers rule allows exactly that program
 * with no arguments, so node, its flags and the catalog are fixed inside the root-owned
 * wrapper (ops/install/proxy-wrapper.ts builds it with the same builder).
 */
export function sudoCommand(sudo: string, proxy: string, user: string): Command {
  return { file: sudo, args: ['-n', '-u', user, '--', proxy] };
}

/** Local mode: this node runs the proxy directly, as the service's own user, with no self-checks. */
export function localCommand(catalogDir: string): Command {
  return spawnCommand(proxyCommandLine(proxyArgs(catalogDir)));
}

/**
 * The proxy's environment: minimal, as sudo resets it anyway. Local mode's host proxies keep
 * HOME (they run as the service's user, whose apps expect it); nothing else passes through.
 */
export function proxyEnvironment(opts: { home?: boolean } = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    LANG: process.env.LANG ?? 'C.UTF-8',
  };
  return opts.home ? { ...env, HOME: process.env.HOME ?? '/' } : env;
}
