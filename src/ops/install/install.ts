import { isAbsolute, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { HubappsError } from '../../errors.js';
import {
  allowedGroupStep,
  configStep,
  programStep,
  serviceUserStep,
  runDirsStep,
  stateDirsStep,
  sudoersStep,
  systemdStep,
  wrappersStep,
  type InstallContext,
  type StepReport,
} from './steps.js';
import { chpManualInstall, chpStep, chpUnitStep, hubDropInStep } from './chp.js';
import { stdio, type Io } from '../io.js';
import { makeLayout, type Layout } from './layout.js';
import { sourceRoot } from './program-tree.js';
import { isRoot } from '../system.js';

export const INSTALL_USAGE = `usage: hubapps install [--dry-run] [--root DIR] [--name NAME] [--service-user USER] [--allowed-group GROUP] [--jupyterhub-config]

Lays out hubapps the production way, as root, with configurable-http-proxy and its unit.
Safe to run again (upgrades, repairs): it changes only what differs, and never overwrites
the configuration or the CHP token.
  --dry-run              print every step, change nothing
  --jupyterhub-config    also write a drop-in for Debian's jupyterhub.service, so the hub
                         reads /etc/jupyterhub/jupyterhub_config.py and starts after CHP
  --root DIR             install below DIR instead of / (a scratch root; no accounts are created)
  --name NAME            name of the installation: /usr/lib/NAME, /etc/NAME, NAME.service, ... (default hubapps)
  --service-user USER    the account the service runs as (default: NAME)
  --allowed-group GROUP  members may start apps (default: NAME-users)
`;

const STEPS = [serviceUserStep, allowedGroupStep, programStep, wrappersStep, configStep, stateDirsStep, runDirsStep, systemdStep, chpStep, chpUnitStep, sudoersStep];

/** `hubapps install`: returns the exit status. */
export async function runInstall(argv: string[], io: Io = stdio): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'dry-run': { type: 'boolean', default: false },
      root: { type: 'string' },
      name: { type: 'string' },
      'service-user': { type: 'string' },
      'allowed-group': { type: 'string' },
      'jupyterhub-config': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.out(INSTALL_USAGE);
    return 0;
  }
  const root = values.root === undefined ? '' : resolve(values.root);
  if (root === '/') throw new HubappsError('usage', 2, '--root / is the real system: leave --root out');
  if (root === '' && !isRoot() && !values['dry-run']) {
    throw new HubappsError('not_root', 2, 'install changes the system and must run as root (or try --dry-run, or --root DIR for a scratch root)');
  }
  const layout = makeLayout({ name: values.name, root, serviceUser: values['service-user'], allowedGroup: values['allowed-group'] });
  const ctx: InstallContext = { layout, dryRun: values['dry-run'] ?? false, source: sourceRoot(), node: nodePath(), root: isRoot() };

  io.out(`hubapps install${ctx.dryRun ? ' (dry run: nothing is changed)' : ''}${root ? ` into ${root}` : ''}, from ${ctx.source}\n`);
  const steps = values['jupyterhub-config'] ? [...STEPS, hubDropInStep] : STEPS;
  const reports = steps.flatMap((step) => step(ctx));
  for (const line of reports) io.out(formatStep(line));
  const chpMissing = reports.some((r) => r.status === 'skip' && r.text.startsWith('configurable-http-proxy not installed'));
  io.out(nextSteps(layout, { dryRun: ctx.dryRun, chpMissing, hubDropIn: values['jupyterhub-config'] ?? false }));
  return 0;
}

function formatStep(r: StepReport): string {
  return `  ${r.status.padEnd(6)} ${r.text}\n`;
}

function nodePath(): string {
  if (!isAbsolute(process.execPath)) throw new HubappsError('node_path', 500, `cannot tell where node is (${process.execPath})`);
  return process.execPath;
}

function nextSteps(l: Layout, opts: { dryRun: boolean; chpMissing: boolean; hubDropIn: boolean }): string {
  const chpUnit = l.chpUnitFile.split('/').pop()!;
  const lines = [
    ...(opts.chpMissing ? [`Install configurable-http-proxy: ${chpManualInstall(l)}`] : []),
    `Edit ${l.configFile} (public_url, allowed_group, jupyterhub) and add apps to ${l.catalogDir} (start from files.yaml.sample; tested recipes in ${l.libDir}/docs/apps.md).`,
    `Connect JupyterHub (${l.libDir}/docs/jupyterhub.md): its CHP settings use the token in ${l.chpTokenFile}, which install made and never replaces.` +
      (opts.hubDropIn ? ` Put them into ${l.jupyterhubConfig}, which the drop-in makes Debian's hub read.` : ` With Debian's jupyterhub package, run install again with --jupyterhub-config first.`),
    `Put the users who may start apps into ${l.allowedGroup}: usermod -aG ${l.allowedGroup} USER`,
    `Check everything: ${l.cliLink} doctor --config ${l.configFile}`,
    `Start it: systemctl daemon-reload && systemctl enable --now ${chpUnit} ${l.name} && systemctl restart jupyterhub`,
  ];
  const head = opts.dryRun ? 'next steps (after a real run):' : 'next steps:';
  return `\n${head}\n${lines.map((line, i) => `  ${i + 1}. ${line}\n`).join('')}`;
}
