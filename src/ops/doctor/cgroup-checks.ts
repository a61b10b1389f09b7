import fs from 'node:fs';
import { CgroupTree, detectLayout, layoutProblem } from '../../limits/cgroup-tree.js';
import { asUser } from './as-user.js';
import { type CheckResult, type DoctorContext, fail, ok, skipped, warn } from './check.js';

/**
 * Per-server limits: the cgroup root the service needs (v1: the directories of `hubapps
 * cgroup-setup`, checked as the service user; v2: Delegate=yes on the unit), and cgroups
 * of servers left behind. `fsRoot` and `unitText` are for tests.
 */
export function checkCgroups(
  ctx: DoctorContext,
  fsRoot = '/sys/fs/cgroup',
  unitText = readUnit(ctx.unitFile),
): CheckResult[] {
  if (!ctx.settings) return [skipped('per-server limits', 'the config cannot be read')];
  const cfg = ctx.settings.server_limits;
  if (cfg.cgroups === 'off') {
    return [
      warn(
        "per-server limits are off (server_limits.cgroups: off): one user's app can take all memory, CPU or processes of the host",
        "set server_limits.cgroups: required (docs/install.md, 'Per-server limits')",
      ),
    ];
  }
  const layout = detectLayout(fsRoot, cfg.cgroup_name, '');
  const bad = (what: string, fix: string) =>
    cfg.cgroups === 'required'
      ? fail(what, fix)
      : warn(`${what}; servers start without limits (server_limits.cgroups: auto)`, fix);
  if (layout.version === 2) {
    if (unitText === undefined)
      return [
        warn(
          `cgroup v2: the unit ${ctx.unitFile ?? ''} cannot be read, so Delegate=yes is not checked`,
        ),
      ];
    if (!/^Delegate=yes\s*$/m.test(unitText))
      return [
        bad(
          `cgroup v2: the unit ${ctx.unitFile} lacks Delegate=yes`,
          "reinstall the unit with 'hubapps install', or add Delegate=yes under [Service] and run systemctl daemon-reload",
        ),
      ];
    if (/^ProtectControlGroups=yes\s*$/m.test(unitText))
      return [
        bad(
          `cgroup v2: the unit ${ctx.unitFile} sets ProtectControlGroups=yes, which makes the delegated cgroup read-only`,
          'remove ProtectControlGroups=yes from the unit',
        ),
      ];
    return [ok('per-server limits: cgroup v2, the unit delegates its cgroup (Delegate=yes)')];
  }
  const problem = asUser(ctx.account, () => layoutProblem(layout));
  if (problem)
    return [
      bad(
        `per-server limits: ${problem}`,
        `hubapps cgroup-setup --user ${ctx.serviceUser} --config ${ctx.configFile}   (as root; the unit's ExecStartPre=+ runs it at every start)`,
      ),
    ];
  const left = new CgroupTree(layout).servers();
  const results = [
    ok(
      `per-server limits: cgroup v1, ${Object.values(layout.roots).join(', ')} writable by ${ctx.serviceUser}`,
    ),
  ];
  if (left.length)
    results.push(
      warn(
        `cgroups of servers ${left.join(', ')} exist; those of servers no longer running are removed at their next start or by rmdir`,
      ),
    );
  return results;
}

function readUnit(file: string | undefined): string | undefined {
  try {
    return file ? fs.readFileSync(file, 'utf8') : undefined;
  } catch {
    return undefined;
  }
}
