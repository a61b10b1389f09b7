import fs from 'node:fs';
import { usesPort } from '../../catalog/placeholders.js';
import { inspectCatalog } from '../check/inspect-config.js';
import { runCommand, type CommandResult } from '../system.js';
import { type CheckResult, type DoctorContext, fail, ok, skipped, warn } from './check.js';
import { sudoListing } from './sudo-checks.js';
import { parseSudoList, ruleFor } from './sudo-list.js';

/** How doctor asks: sudo's rule list for the service user, nft for the table, bpffs for the bind guard's pins (tests pass their own). */
export interface GuardProbes {
  sudoList(ctx: DoctorContext): CommandResult;
  nftTable(table: string): CommandResult;
  bindGuardLoaded(table: string): boolean;
}

const systemProbes: GuardProbes = {
  sudoList: sudoListing,
  nftTable: (table) => runCommand('nft', ['list', 'table', 'inet', table]),
  bindGuardLoaded: (table) =>
    ['ports', 'bind4', 'bind6'].every((pin) => fs.existsSync(`/sys/fs/bpf/${table}/${pin}`)),
};

/**
 * The port guard (docs/security.md, Local users): its helper is root's, the sudoers rule
 * lets the service run it as root, and its nftables table is there. When the guard is off
 * or broken, the apps whose {port} any local account can reach are named.
 */
export function checkPortGuard(
  ctx: DoctorContext,
  probes: GuardProbes = systemProbes,
): CheckResult[] {
  if (!ctx.settings) return [skipped('port guard', 'the config cannot be read')];
  const { launcher, port_guard: guard } = ctx.settings;
  if (launcher !== 'sudo')
    return [
      ok('port guard: not needed with the local launcher (every app runs as the service user)'),
    ];
  const exposed = portApps(ctx.settings.catalog_dir);
  const open = exposed.length
    ? `; any local account can connect to the {port} of ${exposed.join(', ')}`
    : '';
  if (guard.mode === 'off')
    return [
      warn(
        `port guard is off (port_guard.mode: off)${open}`,
        "install nftables and the helper's sudoers rule, then set port_guard.mode: required (docs/install.md, step 6)",
      ),
    ];
  const bad = (what: string, fix: string) =>
    guard.mode === 'required'
      ? fail(what, fix)
      : warn(`${what}; apps start unguarded (port_guard.mode: auto)${open}`, fix);
  const helper = helperProblem(guard.command);
  if (helper)
    return [bad(helper, "run 'hubapps install': it writes the helper and its sudoers rule")];
  const list = probes.sudoList(ctx);
  const rule = list.code === 0 ? ruleFor(parseSudoList(list.stdout), guard.command) : undefined;
  if (!rule || !rule.asRoot || !rule.nopasswd) {
    return [
      bad(
        `no sudoers rule lets ${ctx.serviceUser} run ${guard.command} as root without a password`,
        "run 'hubapps install' (it writes /etc/sudoers.d/hubapps-port-guard from systemd/hubapps-port-guard.sudoers)",
      ),
    ];
  }
  if (!ctx.root)
    return [
      ok(
        `port guard: ${guard.command} may run as root (the nftables table is checked when doctor runs as root)`,
      ),
    ];
  const table = probes.nftTable(guard.table);
  if (table.error?.endsWith('ENOENT'))
    return [bad('nft is not installed', 'apt-get install nftables')];
  if (table.code !== 0) {
    return [
      bad(
        `the nftables table inet ${guard.table} is missing: nothing guards the apps' ports`,
        'systemctl restart hubapps (it rebuilds the table from its database); a firewall that runs "flush ruleset" removes it',
      ),
    ];
  }
  // The forwards set comes after the owners set (src/limits/port-guard-rules.ts).
  const [apps = '', forwards = ''] = table.stdout.split(/set forwards \{/);
  const pairs = (text: string) => (text.match(/\d+ \. \d+/g) ?? []).length;
  return [
    ok(
      `port guard: table inet ${guard.table}, ${pairs(apps)} port(s) held for their owners, ${pairs(forwards)} forwarded port(s) of users' own programs; ${guard.command} may run as root`,
    ),
    bindGuardCheck(guard, probes, bad),
  ];
}

/** The bind half: without it any local account can hold port_range and make {port} starts fail. */
function bindGuardCheck(
  guard: { bind: boolean; table: string },
  probes: GuardProbes,
  bad: (what: string, fix: string) => CheckResult,
): CheckResult {
  if (!guard.bind)
    return warn(
      'port_guard.bind is false: any local account can hold the ports of port_range, and apps that need a {port} then fail to start (no_free_port)',
      'set port_guard.bind: true (needs python3 and a kernel with cgroup BPF, as every Debian and Ubuntu kernel has)',
    );
  if (!probes.bindGuardLoaded(guard.table))
    return bad(
      `the bind guard is not loaded (no pins in /sys/fs/bpf/${guard.table}): any local account can hold the ports of port_range`,
      "systemctl restart hubapps (it loads it), then look for 'port guard' in its log",
    );
  return ok(`bind guard: only root and their owners may bind the ports of port_range`);
}

function helperProblem(file: string): string | undefined {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    return `the port guard's helper ${file} does not exist`;
  }
  if (st.uid !== 0 || (st.mode & 0o022) !== 0)
    return `the port guard's helper ${file} must be root's and writable by nobody else`;
  return undefined;
}

/** Catalog apps that listen on a loopback {port}. */
function portApps(dir: string): string[] {
  return inspectCatalog(dir)
    .apps.filter((a) => usesPort(a))
    .map((a) => a.name);
}
