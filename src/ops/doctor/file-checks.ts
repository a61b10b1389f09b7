import fs from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { getGroup } from '../system.js';
import type { ParsedConfig } from '../../config/schema.js';
import { parseWrapper, type WrapperTarget } from '../install/proxy-wrapper.js';
import { type CheckResult, type DoctorContext, fail, ok, skipped, warn } from './check.js';

/**
 * Everything sudo runs as the users must be root's alone: the proxy wrapper, the node
 * binary, the program files and the catalog. If the service user (or anyone) could change
 * one of them, they could run code as every member of the allowed group. Each must also be
 * readable (and directories searchable) by those members, or the proxy cannot start.
 * Every component of every path is checked, from / down.
 */

type Need = 'read' | 'exec' | 'search';

interface Walk {
  /** The allowed group's gid: group permission bits count for members too. */
  gid: number | undefined;
  findings: string[];
  count: number;
}

const MAX_SHOWN = 8;

export function checkTrustedFiles(ctx: DoctorContext): CheckResult[] {
  if (!ctx.settings) return [skipped('proxy files', 'the config cannot be read')];
  const { proxy_command: proxy, catalog_dir: catalogDir, allowed_group: group } = ctx.settings;
  const gid = getGroup(group)?.gid;
  const installFix =
    'hubapps install lays these out root-owned and read-only for others; or fix by hand: chown root:root PATH && chmod go-w,go+rX PATH';
  if (!fs.existsSync(proxy))
    return [
      fail(
        `proxy wrapper ${proxy} (proxy_command) does not exist`,
        'hubapps install writes it; proxy_command must name it',
      ),
    ];
  const results: CheckResult[] = [];
  const report = (what: string, walk: Walk, fix = installFix) =>
    results.push(
      walk.findings.length === 0
        ? ok(`${what}: root-owned, usable by ${group} members (${walk.count} path(s) checked)`)
        : fail(
            `${what}: ${walk.findings.length} unsafe or unusable path(s)`,
            fix,
            shown(walk.findings),
          ),
    );

  report(`proxy wrapper ${proxy}`, walkPaths([proxy], 'exec', gid));
  const target = parseWrapper(fs.readFileSync(proxy, 'utf8'));
  if (!target) {
    results.push(
      warn(
        `${proxy} is not a wrapper written by hubapps install: the files it runs were not checked`,
        'let hubapps install write it',
      ),
    );
    return results;
  }
  if (!isAbsolute(target.node)) {
    results.push(
      fail(
        `the wrapper runs '${target.node}' through PATH, which sudo replaces`,
        `name node by its absolute path in ${proxy} (hubapps install does)`,
      ),
    );
  } else {
    report(
      `node ${target.node}`,
      walkPaths([target.node], 'exec', gid),
      'use a node installed by the system (e.g. /usr/bin/node from a Debian package), never one in a home directory; then hubapps install',
    );
  }
  const lib = resolve(dirname(target.main), '../../..');
  report(`program files under ${lib}`, walkTree(lib, gid));

  const proxyCatalog = target.args[target.args.indexOf('--catalog-dir') + 1];
  if (target.args.includes('--catalog-dir') && proxyCatalog !== catalogDir) {
    results.push(
      fail(
        `the proxy reads apps from ${proxyCatalog} (its wrapper) but the service from ${catalogDir} (catalog_dir)`,
        `make them the same: set catalog_dir: ${proxyCatalog}, or run hubapps install again`,
      ),
    );
  }
  results.push(checkWrapperPolicy(target, ctx.settings, proxy));
  report(`app catalog ${catalogDir}`, walkTree(catalogDir, gid, 1));
  return results;
}

/** The proxy's own checks (clean environment, min_uid, allowed group) come from its wrapper: they must be on and match the config. */
function checkWrapperPolicy(
  target: WrapperTarget,
  settings: ParsedConfig,
  proxy: string,
): CheckResult {
  const fix = `run hubapps install again (it writes the wrapper from the config), or edit ${proxy} to match`;
  const arg = (name: string) =>
    target.args.includes(name) ? target.args[target.args.indexOf(name) + 1] : undefined;
  const problems: string[] = [];
  if (!target.cleanEnv) problems.push('it does not start node with a clean environment (env -i)');
  if (!target.args.includes('--expect-user-check'))
    problems.push('it does not pass --expect-user-check, so the proxy does not check itself');
  else {
    if (arg('--allowed-group') !== settings.allowed_group)
      problems.push(
        `--allowed-group is ${arg('--allowed-group') ?? 'missing'}, allowed_group ${settings.allowed_group}`,
      );
    if (Number(arg('--min-uid') ?? 1000) !== settings.min_uid)
      problems.push(
        `--min-uid is ${arg('--min-uid') ?? '1000 (its default)'}, min_uid ${settings.min_uid}`,
      );
  }
  if (problems.length > 0)
    return fail(
      `the proxy wrapper ${proxy} does not hold the proxy to the config: ${problems.join('; ')}`,
      fix,
    );
  return ok(
    `the proxy wrapper starts node with a clean environment and the proxy checks itself: ${settings.allowed_group} members, uid ${settings.min_uid} and up, a root-owned catalog`,
  );
}

function shown(findings: string[]): string[] {
  const extra = findings.length - MAX_SHOWN;
  return extra > 0 ? [...findings.slice(0, MAX_SHOWN), `... and ${extra} more`] : findings;
}

/** Each path, every directory above it, and where its symlinks lead. */
function walkPaths(paths: string[], need: Need, gid: number | undefined): Walk {
  const walk: Walk = { gid, findings: [], count: 0 };
  for (const path of paths) {
    ancestors(path, walk);
    inspect(path, need, walk);
    const real = realpathOrUndefined(path);
    if (real && real !== path) {
      ancestors(real, walk);
      inspect(real, need, walk);
    }
  }
  return walk;
}

/** A directory tree: the directories above it, then everything in it down to `depth` levels. */
function walkTree(root: string, gid: number | undefined, depth = Infinity): Walk {
  const walk: Walk = { gid, findings: [], count: 0 };
  ancestors(root, walk);
  const visit = (path: string, level: number): void => {
    const info = inspect(path, 'search', walk);
    if (!info?.isDirectory() || level >= depth) return;
    for (const entry of fs.readdirSync(path, { withFileTypes: true })) {
      const child = `${path}/${entry.name}`;
      if (entry.isDirectory()) visit(child, level + 1);
      else inspect(child, 'read', walk);
    }
  };
  visit(root, 0);
  return walk;
}

function ancestors(path: string, walk: Walk): void {
  const parts = resolve(path).split('/').filter(Boolean);
  for (let i = 0; i < parts.length; i++) inspect(`/${parts.slice(0, i).join('/')}`, 'search', walk);
}

/** Check one path (following a symlink to what it names); returns its stat, or undefined when it is missing. */
function inspect(path: string, need: Need, walk: Walk): fs.Stats | undefined {
  walk.count++;
  let info: fs.Stats;
  try {
    info = fs.statSync(path);
  } catch (err) {
    walk.findings.push(`${path}: ${(err as NodeJS.ErrnoException).code ?? 'cannot be read'}`);
    return undefined;
  }
  const problem = problemOf(info, info.isDirectory() ? 'search' : need, walk.gid);
  if (problem) walk.findings.push(`${path}: ${problem}`);
  return info;
}

function problemOf(info: fs.Stats, need: Need, gid: number | undefined): string | null {
  if (info.uid !== 0) return `owned by uid ${info.uid}, not root`;
  if (info.mode & 0o022)
    return `writable by ${info.mode & 0o002 ? 'everyone' : 'its group'} (mode ${(info.mode & 0o7777).toString(8)})`;
  const bit = need === 'read' ? 0o4 : need === 'exec' ? 0o5 : 0o1;
  const others = info.mode & 0o7 & bit;
  const viaGroup = gid !== undefined && info.gid === gid ? (info.mode >> 3) & 0o7 & bit : 0;
  if (others !== bit && viaGroup !== bit)
    return `not ${need === 'read' ? 'readable' : need === 'exec' ? 'readable and executable' : 'searchable'} by group members (mode ${(info.mode & 0o7777).toString(8)})`;
  return null;
}

function realpathOrUndefined(path: string): string | undefined {
  try {
    return fs.realpathSync(path);
  } catch {
    return undefined;
  }
}
