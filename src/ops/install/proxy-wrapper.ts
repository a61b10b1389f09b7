/**
 * The root-owned shell wrappers `hubapps install` writes (and the system-test harness
 * writes the same way): `hubapps-proxy`, which sudo runs as each user, and `hubapps`, the
 * CLI. The proxy's wrapper is the one place that fixes its arguments: the sudoers rule
 * allows the wrapper with no arguments at all, so the catalog directory is written into it.
 */

import { PROXY_MAIN_IN_LIB, proxyArgs, proxyCommandLine } from '../../proxy/command-line.js';
import type { RunAsPolicy } from '../../proxy/self-check.js';
import { shellQuote } from '../../shell-quote.js';

export interface WrapperTarget {
  /** Variables of a clean environment (`env -i NAME=VALUE ...`); unset: the caller's environment. */
  cleanEnv?: string[];
  /** Absolute path of the node binary: never looked up in PATH, which sudo replaces. */
  node: string;
  /** Options for node itself (V8 flags), before the entry point. */
  nodeFlags?: readonly string[];
  /** The JavaScript entry point. */
  main: string;
  args: string[];
}

/** The proxy's whole environment: node reads NODE_OPTIONS, NODE_PATH and friends, so nothing comes from the caller. */
export const PROXY_ENV = ['PATH=/usr/bin:/bin', 'LANG=C.UTF-8'];
const ENV = '/usr/bin/env';

/** `#!/bin/sh` + `exec [env -i VARS] NODE MAIN ARGS`, every word quoted for sh where needed. */
export function wrapperScript(target: WrapperTarget, passArgs = false): string {
  const clean = target.cleanEnv ? [ENV, '-i', ...target.cleanEnv] : [];
  const words = [...clean, target.node, ...(target.nodeFlags ?? []), target.main, ...target.args]
    .map(shellQuote)
    .join(' ');
  return `#!/bin/sh\nexec ${words}${passArgs ? ' "$@"' : ''}\n`;
}

/** Who the installed proxy may run as: written into its root-owned wrapper. */
export type ProxyPolicy = RunAsPolicy;

/** The proxy wrapper as production installs it: a clean environment, the V8 flags, the catalog, and the proxy's own checks of who it runs as. */
export function proxyWrapperScript(
  node: string,
  libDir: string,
  catalogDir: string,
  policy: ProxyPolicy,
): string {
  const line = proxyCommandLine(proxyArgs(catalogDir, policy), {
    node,
    main: `${libDir}/${PROXY_MAIN_IN_LIB}`,
  });
  return wrapperScript({ cleanEnv: PROXY_ENV, ...line });
}

/** The CLI wrapper: passes its arguments on. */
export function cliWrapperScript(node: string, libDir: string): string {
  return wrapperScript({ node, main: `${libDir}/dist/src/cli.js`, args: [] }, true);
}

/** The port guard's root helper: a clean environment and the one configuration it may read; sudo passes the operation on. */
export function portGuardWrapperScript(node: string, libDir: string, configFile: string): string {
  return wrapperScript(
    {
      cleanEnv: PROXY_ENV,
      node,
      main: `${libDir}/dist/src/cli.js`,
      args: ['port-guard', '--config', configFile],
    },
    true,
  );
}

/**
 * Read back what a wrapper written by wrapperScript() runs, for `hubapps doctor`. Returns
 * undefined for anything else (a hand-written wrapper): doctor then checks only the file.
 */
export function parseWrapper(text: string): WrapperTarget | undefined {
  const lines = text.split('\n');
  if (lines[0] !== '#!/bin/sh') return undefined;
  const exec = lines.find((l) => l.startsWith('exec '));
  if (!exec) return undefined;
  const words = shellWords(exec.slice('exec '.length).replace(/ "\$@"$/, ''));
  if (!words) return undefined;
  let cleanEnv: string[] | undefined;
  if (words[0] === ENV && words[1] === '-i') {
    words.splice(0, 2);
    cleanEnv = [];
    while (words.length > 0 && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0]!))
      cleanEnv.push(words.shift()!);
  }
  const [node, ...rest] = words;
  const flags = rest.findIndex((w) => !w.startsWith('-'));
  if (node === undefined || flags < 0) return undefined;
  const [main, ...args] = rest.slice(flags) as [string, ...string[]];
  return {
    ...(cleanEnv ? { cleanEnv } : {}),
    node,
    ...(flags > 0 ? { nodeFlags: rest.slice(0, flags) } : {}),
    main,
    args,
  };
}

/** Words of a line quoted the way shellQuote() quotes: bare words and '...' parts. Undefined for other shell syntax. */
function shellWords(line: string): string[] | undefined {
  const words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === ' ') {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) return undefined;
      word = (word ?? '') + line.slice(i + 1, end);
      i = end;
    } else if (c === '\\' && line[i + 1] === "'") {
      word = `${word ?? ''}'`;
      i += 1;
    } else if (/[A-Za-z0-9_/.=:,+-]/.test(c)) {
      word = (word ?? '') + c;
    } else {
      return undefined;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}
