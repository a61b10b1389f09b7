import { USAGE } from '../../cli-usage.js';
import { CGROUP_SETUP_USAGE } from '../cgroup-setup.js';
import { CHECK_CONFIG_USAGE } from '../check/check-config.js';
import { DOCTOR_USAGE } from '../doctor/run.js';
import { MIGRATE_USAGE } from '../migrate/migrate-conf.js';
import { PORT_GUARD_USAGE } from '../port-guard.js';
import { INSTALL_USAGE } from './install.js';
import type { Layout } from './layout.js';

/** Every subcommand with options of its own, as `hubapps <command> --help` prints them. */
const COMMANDS: Array<[string, string]> = [
  ['install', INSTALL_USAGE],
  ['doctor', DOCTOR_USAGE],
  ['check-config', CHECK_CONFIG_USAGE],
  ['cgroup-setup', CGROUP_SETUP_USAGE],
  ['port-guard', PORT_GUARD_USAGE],
  ['migrate-conf', MIGRATE_USAGE],
];

/** Text for a roff no-fill block: backslashes doubled, a line starting with . or ' made literal. */
function literal(text: string): string {
  return text
    .replace(/\\/g, '\\e')
    .split('\n')
    .map((line) => (/^[.']/.test(line) ? `\\&${line}` : line))
    .join('\n')
    .trimEnd();
}

/**
 * The man page of the CLI, section 1, from the same usage texts `--help` prints, so the two
 * cannot drift; the Debian package ships it as man1/NAME.1.gz.
 */
export function manPage(layout: Layout, version: string, date: string): string {
  const name = layout.name;
  const block = (text: string) => ['.nf', literal(text), '.fi'];
  return [
    `.TH ${name.toUpperCase()} 1 "${date}" "hubapps ${version}" "User Commands"`,
    '.SH NAME',
    `${name} \\- per-user web apps started as the user's own Unix account, behind configurable-http-proxy`,
    '.SH SYNOPSIS',
    `.B ${name}`,
    '.I command',
    '[options]',
    '.SH DESCRIPTION',
    ...block(USAGE),
    '.SH COMMANDS',
    ...COMMANDS.flatMap(([command, usage]) => [`.SS ${command}`, ...block(usage)]),
    '.SH FILES',
    ...[
      [layout.configFile, 'the service configuration'],
      [layout.catalogDir, 'the app catalog, one NAME.yaml per app'],
      [layout.chpEnvFile, "both configurable-http-proxy units' ports and targets"],
      [`${layout.etcDir}/*-token`, 'the CHP tokens and the admin token (root, 0600)'],
      [layout.dataDir, 'the database'],
      [layout.logDir, "each server's log"],
    ].flatMap(([file, what]) => ['.TP', `.I ${file}`, what!]),
    '.SH SEE ALSO',
    `The guides in ${layout.libDir}/docs/: install.md, configuration.md, operations.md, security.md, apps.md, jupyterhub.md, api.md.`,
    '',
  ].join('\n');
}
