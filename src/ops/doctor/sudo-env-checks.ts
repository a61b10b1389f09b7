import { type CheckResult, type DoctorContext, fail, ok, skipped } from './check.js';
import { flag, ruleFor, type SudoList } from './sudo-list.js';

/**
 * sudo settings that would let whoever controls the service hand the proxy an environment
 * of its choosing: node reads NODE_OPTIONS (--require runs any file) and friends before
 * the proxy's first line. The rule in systemd/hubapps.sudoers pins env_reset and !setenv
 * for the proxy, and the wrapper starts node with `env -i`, but a SETENV tag, a global
 * `setenv`, `!env_reset` winning over ours, or NODE_* in env_keep undo the first layer.
 */
export function checkSudoEnvironment(ctx: DoctorContext, list: SudoList): CheckResult[] {
  if (!ctx.settings) return [skipped('sudo environment', 'the config cannot be read')];
  const proxy = ctx.settings.proxy_command;
  const fix = `keep "Defaults!${proxy} env_reset, !setenv" from systemd/hubapps.sudoers in ${ctx.sudoersHint}, and remove the setting named here from the other files in /etc/sudoers.d and /etc/sudoers`;
  const problems: string[] = [];
  if (flag(list, 'env_reset') === false)
    problems.push("!env_reset (the caller's environment reaches the proxy)");
  if (flag(list, 'setenv') === true)
    problems.push('setenv (the caller may set variables for the proxy)');
  const rule = ruleFor(list, proxy);
  if (rule && /\bSETENV:/.test(rule.line))
    problems.push(`the SETENV tag on the rule: ${rule.line}`);
  for (const key of ['env_keep', 'env_check']) {
    for (const entry of list.defaults) {
      const m = new RegExp(`^${key}\\s*[+]?=\\s*(.*)$`).exec(entry);
      const kept =
        m?.[1]
          ?.replace(/["\\]/g, ' ')
          .split(/\s+/)
          .filter((v) => /^(NODE_|LD_|BASH_ENV$|ENV$)/.test(v)) ?? [];
      if (kept.length > 0) problems.push(`${key} keeps ${kept.join(', ')}`);
    }
  }
  if (problems.length > 0)
    return [
      fail(
        `sudo settings that let the caller shape the proxy's environment: ${problems.join('; ')}`,
        fix,
      ),
    ];
  return [
    ok("sudo resets the proxy's environment (env_reset, no setenv, no SETENV tag, no NODE_* kept)"),
  ];
}
