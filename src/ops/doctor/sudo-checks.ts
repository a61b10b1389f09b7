import { PROTOCOL_VERSION } from '../../protocol/wire.js';
import { getGroup, getPasswd, runCommand, type CommandResult } from '../system.js';
import { commandAs } from './as-user.js';
import { type CheckResult, type DoctorContext, fail, ok, skipped, warn } from './check.js';
import { checkSudoEnvironment } from './sudo-env-checks.js';
import { flag, parseSudoList, ruleFor, setting } from './sudo-list.js';

/**
 * The allowed group exists and lists members. Only the group's member field is read:
 * finding the users whose *primary* group it is would mean walking all of `getent passwd`,
 * which is slow or refused on LDAP directories.
 */
export function checkGroup(ctx: DoctorContext): CheckResult[] {
  if (!ctx.settings) return [skipped('allowed group', 'the config cannot be read')];
  const name = ctx.settings.allowed_group;
  const group = getGroup(name);
  if (!group)
    return [
      fail(
        `allowed group ${name} does not exist`,
        `groupadd ${name} and add the users (usermod -aG ${name} USER), or set allowed_group to an existing group`,
      ),
    ];
  if (group.members.length === 0) {
    return [
      warn(
        `allowed group ${name} (gid ${group.gid}) lists no members; users whose primary group it is are not listed`,
        `usermod -aG ${name} USER, or name a member with --member USER`,
      ),
    ];
  }
  // The member checkSudoRun tries, unless --member named one.
  ctx.member ??= pickMember(group.members, ctx.settings.min_uid);
  return [
    ok(
      `allowed group ${name} (gid ${group.gid}): ${group.members.length} listed member(s); primary-group members are not listed`,
    ),
  ];
}

function pickMember(members: string[], minUid: number): string | undefined {
  return members.find((m) => {
    const account = getPasswd(m);
    return account !== undefined && account.uid >= minUid && account.uid !== 0;
  });
}

const listings = new WeakMap<DoctorContext, CommandResult>();

/** `sudo -n -l` for the service user, asked once per doctor run (the proxy's rule and the port guard's both read it). */
export function sudoListing(ctx: DoctorContext): CommandResult {
  let r = listings.get(ctx);
  if (!r) {
    const sudo = ctx.settings?.sudo_command ?? 'sudo';
    r = runCommand(sudo, ctx.root ? ['-n', '-l', '-U', ctx.serviceUser] : ['-n', '-l']);
    listings.set(ctx, r);
  }
  return r;
}

/** What sudo's policy says about the service user: the rule, requiretty, passwords, secure_path. */
export function checkSudoPolicy(ctx: DoctorContext): CheckResult[] {
  if (!ctx.settings || !ctx.account)
    return [skipped('sudo rule', ctx.settings ? 'no service user' : 'the config cannot be read')];
  const { sudo_command: sudo, proxy_command: proxy } = ctx.settings;
  const svc = ctx.serviceUser;
  const r = sudoListing(ctx);
  const ruleFix = `install the rule ${ctx.sudoersHint}: hubapps install writes it (template: systemd/hubapps.sudoers); proxy_command (${proxy}) must be exactly the path in it`;
  if (r.error)
    return [
      fail(
        `cannot run ${sudo}: ${r.error}`,
        'install sudo (apt-get install sudo) or correct sudo_command',
      ),
    ];
  if (/a password is required/.test(r.stderr)) {
    return [
      fail(
        `sudo asks ${svc} for a password even to list its rules: no NOPASSWD rule for ${svc}`,
        ruleFix,
      ),
    ];
  }
  const list = parseSudoList(r.stdout);
  if (r.code !== 0 || !list.allowed)
    return [
      fail(`sudo has no rule for ${svc}${r.stderr.trim() ? ` (${r.stderr.trim()})` : ''}`, ruleFix),
    ];
  const results: CheckResult[] = [];
  const rule = ruleFor(list, proxy);
  if (!rule) results.push(fail(`no sudoers rule lets ${svc} run ${proxy}`, ruleFix, list.rules));
  else if (!rule.nopasswd)
    results.push(
      fail(
        `the sudoers rule for ${proxy} asks for a password: ${rule.line}`,
        `add NOPASSWD: to the rule (${ctx.sudoersHint})`,
      ),
    );
  else {
    results.push(ok(`sudoers rule: ${rule.line}`));
    if (rule.asRoot)
      results.push(
        warn(
          'the rule lets the service start the proxy as root',
          `limit the run-as list to (%${ctx.settings.allowed_group},!root) as in systemd/hubapps.sudoers`,
        ),
      );
    if (!rule.asRoot && !rule.excludesUid0) {
      results.push(
        warn(
          'the rule excludes root by name only: another account with uid 0 in the group would pass',
          `add !#0 to the run-as list: (%${ctx.settings.allowed_group},!root,!#0) as in systemd/hubapps.sudoers`,
        ),
      );
    }
    if (!rule.noArguments)
      results.push(
        warn(
          'the rule lets the service pass arguments to the proxy',
          `end the rule with ${proxy} "" as in systemd/hubapps.sudoers`,
        ),
      );
  }
  results.push(
    flag(list, 'requiretty')
      ? fail(
          `sudo requires a terminal (requiretty) for ${svc}, and the service has none`,
          `add "Defaults:${svc} !requiretty" to ${ctx.sudoersHint}, or remove requiretty`,
        )
      : ok('sudo does not require a terminal (no requiretty)'),
  );
  results.push(...checkSudoEnvironment(ctx, list));
  const securePath = setting(list, 'secure_path');
  results.push(
    ok(
      `sudo secure_path ${securePath ?? 'not set'}: does not matter, the wrapper runs node by its absolute path and the proxy sets the apps' PATH`,
    ),
  );
  return results;
}

/** The real thing: the service user starts the proxy as a member through sudo and it answers the version op. */
export function checkSudoRun(ctx: DoctorContext): CheckResult[] {
  if (!ctx.settings || !ctx.account)
    return [
      skipped(
        'starting the proxy through sudo',
        ctx.settings ? 'no service user' : 'the config cannot be read',
      ),
    ];
  const member = ctx.member;
  if (!member)
    return [
      warn(
        'starting the proxy through sudo: not tried, no member of the allowed group found',
        'name one with --member USER',
      ),
    ];
  const { sudo_command: sudo, proxy_command: proxy, allowed_group: group } = ctx.settings;
  const svc = ctx.serviceUser;
  const [file, args] = commandAs(ctx.account, ctx.root, sudo, ['-n', '-u', member, '--', proxy]);
  const r = runCommand(file, args, {
    input: `${JSON.stringify({ op: 'version', version: PROTOCOL_VERSION })}\n`,
    timeoutMs: 20_000,
  });
  const what = `${svc} runs ${proxy} as ${member} through sudo`;
  const said = (r.error ?? r.stderr.trim().split('\n').at(-1) ?? '').slice(0, 300);
  if (/a password is required/.test(r.stderr)) {
    return [
      fail(
        `${what}: refused ("a password is required")`,
        `is ${member} in ${group} (id ${member})? is the rule in ${ctx.sudoersHint} in force (sudo -l -U ${svc})? proxy_command must match it exactly`,
      ),
    ];
  }
  if (/a terminal is required|must have a tty/.test(r.stderr))
    return [
      fail(
        `${what}: sudo wants a terminal`,
        `add "Defaults:${svc} !requiretty" to ${ctx.sudoersHint}`,
      ),
    ];
  if (r.code !== 0) {
    return [
      fail(
        `${what}: failed (exit ${r.code ?? 'killed'}): ${said}`,
        `run it by hand to see why: echo '{"op":"version","version":${PROTOCOL_VERSION}}' | runuser -u ${svc} -- ${sudo} -n -u ${member} -- ${proxy}`,
      ),
    ];
  }
  let answer: { protocol?: unknown; node?: unknown; user?: unknown } = {};
  try {
    answer = JSON.parse(r.stdout.trim().split('\n')[0] ?? '') as typeof answer;
  } catch {
    return [
      fail(
        `${what}: answered something that is not the proxy's version line: ${r.stdout.slice(0, 200)}`,
        `is ${proxy} the hubapps-proxy wrapper? hubapps install writes it`,
      ),
    ];
  }
  if (answer.protocol !== PROTOCOL_VERSION) {
    return [
      fail(
        `${what}: the proxy speaks protocol ${String(answer.protocol)}, this hubapps ${PROTOCOL_VERSION}`,
        'install the proxy of this version: hubapps install',
      ),
    ];
  }
  if (answer.user !== member)
    return [
      fail(
        `${what}: the proxy ran as ${String(answer.user)}, not ${member}`,
        `check the rule in ${ctx.sudoersHint} and the wrapper ${proxy}`,
      ),
    ];
  return [ok(`${what}: protocol ${PROTOCOL_VERSION}, node ${String(answer.node)}`)];
}
