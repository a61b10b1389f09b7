import { userInfo } from 'node:os';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { HubappsError } from '../../errors.js';
import { checkUserName } from '../../names.js';
import { credentialsEnv, unitUser } from '../check/credentials.js';
import { checkAppPrograms } from './app-programs.js';
import type { CheckResult, DoctorContext } from './check.js';
import { checkCgroups } from './cgroup-checks.js';
import { checkCatalog, checkConfig } from './config-checks.js';
import { checkTrustedFiles } from './file-checks.js';
import { checkProxyCodeCache } from './code-cache-check.js';
import { checkChp, checkHub } from './net-checks.js';
import { checkChpEnv } from './chp-env-checks.js';
import { checkHubUsernames } from './hub-name-checks.js';
import { checkOrigins } from './origin-checks.js';
import { checkPortGuard } from './port-guard-checks.js';
import { checkHostDirs, checkPortRange } from './host-dir-checks.js';
import {
  checkActiveOwners,
  checkDatabase,
  checkServiceUser,
  checkStateDirs,
} from './state-checks.js';
import { checkGroup, checkSudoPolicy, checkSudoRun } from './sudo-checks.js';
import { inspectConfig } from '../check/inspect-config.js';
import { stdio, type Io } from '../io.js';
import { DEFAULT_CONFIG, DEFAULT_UNIT } from '../install/layout.js';
import { getPasswd, isRoot } from '../system.js';

export const DOCTOR_USAGE = `usage: hubapps doctor [--config FILE] [--as USER] [--member USER] [--unit FILE]

Checks the whole installation and prints one line per check (ok, warn or FAIL); under
every FAIL a line "fix:" says what to do. Exits 1 if anything failed.
  --config FILE    the service configuration (default ${DEFAULT_CONFIG})
  --as USER        the service user (root only; default: User= of the unit, else hubapps).
                   Without root, doctor checks as the user running it.
  --member USER    the allowed-group member to try sudo with (default: the first listed member)
  --unit FILE      the installed unit, for User= and LoadCredential= (default ${DEFAULT_UNIT})
`;

const CHECKS: Array<(ctx: DoctorContext) => CheckResult[] | Promise<CheckResult[]>> = [
  checkServiceUser,
  checkStateDirs,
  checkHostDirs,
  checkPortRange,
  checkDatabase,
  checkChp,
  checkChpEnv,
  checkOrigins,
  checkHub,
  checkHubUsernames,
  checkGroup,
  checkAppPrograms,
  checkSudoPolicy,
  checkSudoRun,
  checkActiveOwners,
  checkTrustedFiles,
  checkProxyCodeCache,
  checkCgroups,
  checkPortGuard,
];

/** `hubapps doctor`: returns the exit status. */
export async function runDoctor(argv: string[], io: Io = stdio): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string', short: 'c' },
      as: { type: 'string' },
      member: { type: 'string' },
      unit: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.out(DOCTOR_USAGE);
    return 0;
  }
  const configFile = values.config ?? DEFAULT_CONFIG;
  const unitFile = values.unit ?? DEFAULT_UNIT;
  const serviceUser = checkUserName(whoToCheck(values.as, unitFile));
  const creds = credentialsEnv(unitFile);
  try {
    const inspection = inspectConfig(configFile, creds.env);
    const ctx: DoctorContext = {
      configFile,
      config: inspection.config,
      settings: inspection.settings,
      serviceUser,
      account: getPasswd(serviceUser),
      root: isRoot(),
      ...(values.member ? { member: checkUserName(values.member) } : {}),
      sudoersHint: `/etc/sudoers.d/${basename(unitFile, '.service')}`,
      unitFile,
    };
    const results = [
      ...checkConfig(configFile, inspection),
      ...checkCatalog(ctx, inspection.invalidKeys),
    ];
    for (const check of CHECKS) results.push(...(await check(ctx)));
    io.out(results.map(formatResult).join(''));
    const count = (s: CheckResult['status']) => results.filter((r) => r.status === s).length;
    io.out(`\n${count('ok')} ok, ${count('warn')} warn, ${count('FAIL')} FAIL\n`);
    return count('FAIL') > 0 ? 1 : 0;
  } finally {
    creds.dispose();
  }
}

/** Root checks on behalf of the service user; anyone else checks as themselves. */
function whoToCheck(as: string | undefined, unitFile: string): string {
  const me = userInfo().username;
  if (!isRoot()) {
    if (as !== undefined && as !== me)
      throw new HubappsError(
        'usage',
        `--as ${as} needs root: run doctor as root, or as ${as} itself`,
      );
    return me;
  }
  return as ?? unitUser(unitFile) ?? 'hubapps';
}

export function formatResult(r: CheckResult): string {
  const lines = [
    `${r.status.padEnd(5)} ${r.what}`,
    ...(r.details ?? []).map((d) => `        ${d}`),
  ];
  if (r.fix) lines.push(`  fix: ${r.fix}`);
  return `${lines.join('\n')}\n`;
}
