/**
 * The root-owned shell wrappers `hubapps install` writes (and the system-test harness
 * writes the same way): `hubapps-proxy`, which sudo runs as each user, and `hubapps`, the
 * CLI. The proxy's wrapper is the one place that fixes its arguments: the sudoers rule
 * allows the wrapper with no arguments at all, so the catalog directory is written into it.
 */

import { PROXY_NODE_FLAGS } from '../proxy/node-flags.js';

export interface WrapperTarget {
  /** Absolute path of the node binary: never looked up in PATH, which sudo replaces. */
  node: string;
  /** Options for node itself (V8 flags), before the entry point. */
  nodeFlags?: readonly string[];
  /** The JavaScript entry point. */
  main: string;
  args: string[];
}

/** `#!/bin/sh` + `exec NODE MAIN ARGS`, every word quoted for sh where needed. */
export function wrapperScript(target: WrapperTarget, passArgs = false): string {
  const words = [target.node, ...(target.nodeFlags ?? []), target.main, ...target.args].map(shellQuote).join(' ');
  return `#!/bin/sh\nexec ${words}${passArgs ? ' "$@"' : ''}\n`;
}

/** The proxy wrapper as production installs it: the proxy also checks that sudo made it the requested user. */
export function proxyWrapperScript(node: string, libDir: string, catalogDir: string, extraArgs: string[] = ['--expect-user-check']): string {
  return wrapperScript({ node, nodeFlags: PROXY_NODE_FLAGS, main: `${libDir}/dist/src/proxy/main.js`, args: ['--catalog-dir', catalogDir, ...extraArgs] });
}

/** The CLI wrapper: passes its arguments on. */
export function cliWrapperScript(node: string, libDir: string): string {
  return wrapperScript({ node, main: `${libDir}/dist/src/cli.js`, args: [] }, true);
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
  const [node, ...rest] = words;
  const flags = rest.findIndex((w) => !w.startsWith('-'));
  if (node === undefined || flags < 0) return undefined;
  const [main, ...args] = rest.slice(flags) as [string, ...string[]];
  return flags > 0 ? { node, nodeFlags: rest.slice(0, flags), main, args } : { node, main, args };
}

export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_/.=:,+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
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
