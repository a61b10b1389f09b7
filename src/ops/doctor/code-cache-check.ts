import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BUNDLE_FILE, CACHE_FILE } from '../../proxy/code-cache.js';
import { PROXY_MAIN_IN_LIB } from '../../proxy/command-line.js';
import { parseWrapper } from '../install/proxy-wrapper.js';
import { type CheckResult, type DoctorContext, ok, skipped, warn } from './check.js';

/**
 * Does the installed proxy's V8 code cache fit the node its wrapper runs? A cache made by
 * another node (a build on another machine, node upgraded since) never fails a start: V8
 * refuses it and compiles, and each start costs the CPU the cache would have saved, with a
 * line in the server's log. This compiles the bundle, without running it, with the
 * wrapper's node and V8 flags, as a proxy start does.
 */
export function checkProxyCodeCache(ctx: DoctorContext): CheckResult[] {
  const what = "the proxy's V8 code cache";
  if (!ctx.settings) return [skipped(what, 'the config cannot be read')];
  const wrapper = ctx.settings.proxy_command;
  const target = fs.existsSync(wrapper)
    ? parseWrapper(fs.readFileSync(wrapper, 'utf8'))
    : undefined;
  if (!target || basename(target.main) !== basename(PROXY_MAIN_IN_LIB))
    return [skipped(what, `${wrapper} does not run ${basename(PROXY_MAIN_IN_LIB)}`)];
  const dir = dirname(target.main);
  if (!fs.existsSync(join(dir, CACHE_FILE)))
    return [warn(`${what}: ${join(dir, CACHE_FILE)} is missing`, REBUILD)];
  const runs = [
    target.node,
    ...['code-cache.js', BUNDLE_FILE, CACHE_FILE].map((f) => join(dir, f)),
  ];
  // doctor as root runs that node on those files: only if nobody else could have changed them.
  if (process.getuid?.() === 0 && !runs.every(rootsAlone))
    return [
      skipped(what, "node or the program files are not root's alone: see the program files check"),
    ];
  const verdict = cacheVerdict(target.node, target.nodeFlags ?? [], dir);
  if (verdict === 'taken') return [ok(`${what} fits ${target.node} and its V8 flags`)];
  if (verdict === 'refused')
    return [
      warn(
        `${what} was made by another node or with other V8 flags than ${target.node}'s: every proxy start compiles without it`,
        REBUILD,
      ),
    ];
  return [warn(`${what}: could not be tried with ${target.node} (${verdict})`, REBUILD)];
}

const REBUILD =
  'build hubapps with the node the wrapper runs (npm run build makes the cache) and run hubapps install again';

/** The file and every directory above it are root's, and writable by nobody else. */
function rootsAlone(path: string): boolean {
  for (let p = path; ; p = dirname(p)) {
    let st: fs.Stats;
    try {
      st = fs.statSync(p);
    } catch {
      return false;
    }
    if (st.uid !== 0 || (st.mode & 0o022) !== 0) return false;
    if (p === dirname(p)) return true;
  }
}

/** 'taken', 'refused', or what went wrong trying. */
export function cacheVerdict(node: string, nodeFlags: readonly string[], dir: string): string {
  const codeCache = JSON.stringify(pathToFileURL(join(dir, 'code-cache.js')).href);
  const script = [
    `import { compileBundle, readCache } from ${codeCache};`,
    `const b = compileBundle(${JSON.stringify(join(dir, BUNDLE_FILE))}, readCache(${JSON.stringify(join(dir, CACHE_FILE))}));`,
    "process.stdout.write(b.cacheRejected ? 'refused' : 'taken');",
  ].join('\n');
  const run = spawnSync(node, [...nodeFlags, '--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 30_000,
    env: { PATH: '/usr/bin:/bin' },
  });
  if (run.stdout === 'taken' || run.stdout === 'refused') return run.stdout;
  return run.error?.message ?? (run.stderr.trim().split('\n').at(-1) || `exit ${run.status}`);
}
