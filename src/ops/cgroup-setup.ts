import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { readYamlMapping } from '../config/yaml.js';
import { detectLayout, V1_CONTROLLERS } from '../limits/cgroup-tree.js';
import { serverLimitsConfigSchema } from '../limits/resources.js';
import { stdio, type Io } from './io.js';
import { DEFAULT_CONFIG } from './install/layout.js';
import { getPasswd, isRoot } from './system.js';

export const CGROUP_SETUP_USAGE = `usage: hubapps cgroup-setup --user USER [--config FILE] [--remove]

The one step of per-server limits that needs root; hubapps.service runs it before every
start (ExecStartPre=+, systemd runs it as root). On cgroup v1 it creates
/sys/fs/cgroup/{memory,cpu,pids}/NAME (server_limits.cgroup_name) owned by USER, the
service user, so the service can give each server its own cgroup without root. On cgroup
v2 there is nothing to do: Delegate=yes on the unit hands the service its cgroup.
  --user USER    the service user (in the unit: %u, the unit's User=)
  --config FILE  the service configuration (default ${DEFAULT_CONFIG})
  --remove       remove the directories instead (they must hold no server's cgroup)
`;

/** `hubapps cgroup-setup`: returns the exit status. */
export function runCgroupSetup(argv: string[], io: Io = stdio, fsRoot = '/sys/fs/cgroup'): number {
  const { values } = parseArgs({
    args: argv,
    options: {
      user: { type: 'string' },
      config: { type: 'string', short: 'c' },
      remove: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.out(CGROUP_SETUP_USAGE);
    return 0;
  }
  if (!values.user) {
    io.err(`hubapps cgroup-setup: --user is required\n${CGROUP_SETUP_USAGE}`);
    return 2;
  }
  const file = values.config ?? DEFAULT_CONFIG;
  const parsed = serverLimitsConfigSchema.safeParse(readYamlMapping(file).server_limits ?? {});
  if (!parsed.success) {
    io.err(
      `hubapps cgroup-setup: ${file}: key 'server_limits': ${parsed.error.issues[0]?.message}; run 'hubapps check-config'\n`,
    );
    return 1;
  }
  const cfg = parsed.data;
  if (cfg.cgroups === 'off') {
    io.out('server_limits.cgroups is off: nothing to set up\n');
    return 0;
  }
  const layout = detectLayout(fsRoot, cfg.cgroup_name, '');
  if (layout.version === 2) {
    io.out(
      'cgroup v2: nothing to set up here; Delegate=yes on the unit hands the service its own cgroup\n',
    );
    return 0;
  }
  if (!isRoot()) {
    io.err('hubapps cgroup-setup: must run as root (the unit runs it with ExecStartPre=+)\n');
    return 1;
  }
  const account = getPasswd(values.user);
  if (!account) {
    io.err(`hubapps cgroup-setup: no user '${values.user}'\n`);
    return 1;
  }
  for (const ctrl of V1_CONTROLLERS) {
    const dir = layout.roots[ctrl];
    if (!fs.existsSync(`${fsRoot}/${ctrl}`)) {
      io.err(
        `hubapps cgroup-setup: the cgroup v1 controller '${ctrl}' is not mounted at ${fsRoot}/${ctrl}\n`,
      );
      return 1;
    }
    if (values.remove) {
      if (fs.existsSync(dir)) fs.rmdirSync(dir);
      continue;
    }
    fs.mkdirSync(dir, { recursive: true });
    // Only the directory: the service then creates each server's cgroup inside and owns it.
    fs.chownSync(dir, account.uid, account.gid);
    io.out(`${dir}: owned by ${values.user}\n`);
  }
  return 0;
}
