/**
 * The one builder of hubapps-proxy's command line: node, its V8 flags, the entry point and
 * the proxy's arguments. The installed wrapper, the local launcher, a Slurm job's script,
 * the benchmarks and the tests all start the proxy through it, so none can run it without
 * the memory flags docs/benchmarks.md measured (V8 reads them only from node's own argv).
 */
import { fileURLToPath } from 'node:url';
import { shellQuote } from '../shell-quote.js';
import { PROXY_NODE_FLAGS } from './node-flags.js';
import type { RunAsPolicy } from './self-check.js';

/**
 * The entry point every launcher runs: the loader scripts/bundle-proxy.ts writes beside this
 * file (dist/src/proxy/hubapps-proxy.cjs, in a checkout or an installation), which runs the
 * proxy's bundle with its V8 code cache (code-cache.ts).
 */
export const PROXY_MAIN = fileURLToPath(new URL('./hubapps-proxy.cjs', import.meta.url));

/** PROXY_MAIN's place in an installation's lib directory, for the wrapper `hubapps install` writes. */
export const PROXY_MAIN_IN_LIB = 'dist/src/proxy/hubapps-proxy.cjs';

/** The ES module bundle, the entry point before the code cache: the benchmark weighs the cache against it, and proxies started by that build ran it. */
export const PROXY_ESM_MAIN = fileURLToPath(new URL('./hubapps-proxy.js', import.meta.url));

/** The same proxy as the separate modules tsc wrote: the benchmark that weighs the bundle runs it, and proxies started before the bundle ran it. */
export const PROXY_MODULES_MAIN = fileURLToPath(new URL('./main.js', import.meta.url));

/** Every entry point of this installation's proxy, by its full path: how LocalLauncher recognises its own proxies, whichever build started them. */
export const PROXY_MAINS: readonly string[] = [PROXY_MAIN, PROXY_ESM_MAIN, PROXY_MODULES_MAIN];

/**
 * What a proxy's command line contains, whichever entry point started it: a proxy started
 * by an earlier build (the ES module bundle, the separate modules) is still recognised
 * and adopted after an upgrade. LocalLauncher matches PROXY_MAINS by their full paths instead.
 */
export const PROXY_ENTRIES: readonly string[] = [
  'proxy/hubapps-proxy.cjs',
  'proxy/hubapps-proxy.js',
  'proxy/main.js',
];

/** A proxy's command line in its parts; the installed wrapper writes them as shell words. */
export interface ProxyCommandLine {
  /** Absolute path of node: never looked up in PATH, which sudo and Slurm replace. */
  node: string;
  nodeFlags: readonly string[];
  main: string;
  args: string[];
}

/** The catalog and, when the proxy runs as another user (sudo, a job), who it may run as. */
export function proxyArgs(catalogDir: string, policy?: RunAsPolicy): string[] {
  const checks = policy
    ? [
        '--expect-user-check',
        '--allowed-group',
        policy.allowedGroup,
        '--min-uid',
        String(policy.minUid),
      ]
    : [];
  return ['--catalog-dir', catalogDir, ...checks];
}

/** The proxy with `args`, run by this node from this installation unless `at` says otherwise. */
export function proxyCommandLine(
  args: string[],
  at: { node?: string; main?: string } = {},
): ProxyCommandLine {
  return {
    node: at.node ?? process.execPath,
    nodeFlags: PROXY_NODE_FLAGS,
    main: at.main ?? PROXY_MAIN,
    args,
  };
}

/** For child_process.spawn. */
export function spawnCommand(line: ProxyCommandLine): { file: string; args: string[] } {
  return { file: line.node, args: [...line.nodeFlags, line.main, ...line.args] };
}

/** One line for a POSIX shell, every word quoted where needed. */
export function shellCommand(line: ProxyCommandLine): string {
  const { file, args } = spawnCommand(line);
  return [file, ...args].map(shellQuote).join(' ');
}
