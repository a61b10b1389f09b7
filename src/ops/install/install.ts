import { isAbsolute, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parse } from 'yaml';
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
import { HUB_PYTHON, hubSpawnerStep } from './hub-spawner.js';
import { stdio, type Io } from '../io.js';
import { at, makeLayout, type Layout } from './layout.js';
import { configOptions, ENV_OPTIONS, mergeChpEnv, readIfExists, type SiteOptions } from './site.js';
import { sourceRoot } from './program-tree.js';
import { isRoot } from '../system.js';

export const INSTALL_USAGE = `usage: hubapps install [--dry-run] [--root DIR] [--name NAME] [--service-user USER] [--allowed-group GROUP] [--jupyterhub-config]
                      [--jupyterhub-spawner [--hub-python PATH]]
                      [--public-url URL] [--apps-domain DOMAIN [--apps-scheme https|http] [--apps-port N]]
                      [--chp-ip ADDR] [--chp-port N] [--chp-api-port N] [--hub-url URL]
                      [--apps-chp-port N] [--apps-chp-api-port N] [--service-url URL]

Lays out hubapps the production way, as root, with configurable-http-proxy and its unit.
Safe to run again (upgrades, repairs): it changes only what differs, and never overwrites
the configuration or the CHP token.
  --dry-run              print every step, change nothing
  --jupyterhub-config    also write a drop-in for Debian's jupyterhub.service, so the hub
                         reads /etc/jupyterhub/jupyterhub_config.py and starts after CHP
  --jupyterhub-spawner   also install HubappsSpawner where the hub's Python imports it, its
                         token /etc/NAME/spawner-token (made once) and the drop-in that gives
                         the service that token (docs/jupyterhub.md, "Drop-in for sudospawner")
  --hub-python PATH      the Python JupyterHub runs with (default ${HUB_PYTHON}; a venv's python)
  --root DIR             install below DIR instead of / (a scratch root; no accounts are created)
  --name NAME            name of the installation: /usr/lib/NAME, /etc/NAME, NAME.service, ... (default hubapps)
  --service-user USER    the account the service runs as (default: NAME)
  --allowed-group GROUP  members may start apps (default: NAME-users)

Written into a new /etc/NAME/hubapps.yaml (an existing one is never changed):
  --public-url URL       how browsers reach the hub, e.g. https://hub.example.org
  --apps-domain DOMAIN   per-server origins: each server on SERVER--USER.DOMAIN (docs/install.md)
  --apps-scheme, --apps-port   how browsers reach the apps domain (default https, its default port)

Written into /etc/NAME/chp.env, which both CHP units read (kept on later runs unless given again):
  --chp-ip ADDR          where JupyterHub's CHP listens for browsers (default 127.0.0.1)
  --chp-port N           its port (default 8000)
  --chp-api-port N       its REST API on 127.0.0.1 (default 8001; chp.api_url)
  --hub-url URL          where it sends paths without a route: the hub (default http://127.0.0.1:8081)
  --apps-chp-port N      the apps CHP's port, nginx's upstream for *.DOMAIN (default 8002)
  --apps-chp-api-port N  its REST API on 127.0.0.1 (default 8003; apps_chp.api_url)
  --service-url URL      the service's listen address (default http://127.0.0.1:10101; listen)
`;

const STEPS = [
  serviceUserStep,
  allowedGroupStep,
  programStep,
  wrappersStep,
  configStep,
  stateDirsStep,
  runDirsStep,
  systemdStep,
  chpStep,
  chpUnitStep,
  sudoersStep,
];

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
      'jupyterhub-spawner': { type: 'boolean', default: false },
      'hub-python': { type: 'string' },
      'public-url': { type: 'string' },
      'apps-domain': { type: 'string' },
      'apps-scheme': { type: 'string' },
      'apps-port': { type: 'string' },
      ...Object.fromEntries(
        Object.values(ENV_OPTIONS).map((option) => [option, { type: 'string' as const }]),
      ),
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.out(INSTALL_USAGE);
    return 0;
  }
  const root = values.root === undefined ? '' : resolve(values.root);
  if (root === '/')
    throw new HubappsError('usage', '--root / is the real system: leave --root out');
  if (root === '' && !isRoot() && !values['dry-run']) {
    throw new HubappsError(
      'not_root',
      'install changes the system and must run as root (or try --dry-run, or --root DIR for a scratch root)',
    );
  }
  const layout = makeLayout({
    name: values.name,
    root,
    serviceUser: values['service-user'],
    allowedGroup: values['allowed-group'],
  });
  const site = siteOptions(layout, values as Record<string, string | boolean | undefined>);
  const ctx: InstallContext = {
    layout,
    site,
    dryRun: values['dry-run'] ?? false,
    source: sourceRoot(),
    node: nodePath(),
    root: isRoot(),
  };

  io.out(
    `hubapps install${ctx.dryRun ? ' (dry run: nothing is changed)' : ''}${root ? ` into ${root}` : ''}, from ${ctx.source}\n`,
  );
  if (values['hub-python'] !== undefined && !values['jupyterhub-spawner'])
    throw new HubappsError('usage', '--hub-python goes with --jupyterhub-spawner');
  if (values['hub-python'] !== undefined && !isAbsolute(values['hub-python']))
    throw new HubappsError(
      'usage',
      `--hub-python must be an absolute path, not '${values['hub-python']}'`,
    );
  const hubPython = values['hub-python'] ?? HUB_PYTHON;
  const steps = [
    ...STEPS,
    ...(values['jupyterhub-config'] ? [hubDropInStep] : []),
    ...(values['jupyterhub-spawner'] ? [(c: InstallContext) => hubSpawnerStep(c, hubPython)] : []),
  ];
  const reports = steps.flatMap((step) => step(ctx));
  for (const line of reports) io.out(formatStep(line));
  const chpMissing = reports.some(
    (r) => r.status === 'skip' && r.text.startsWith('configurable-http-proxy not installed'),
  );
  io.out(
    nextSteps(layout, {
      dryRun: ctx.dryRun,
      chpMissing,
      hubDropIn: values['jupyterhub-config'] ?? false,
      hubSpawner: values['jupyterhub-spawner'] ?? false,
      appsDomain: site.appsDomain ?? configuredAppsDomain(layout),
    }),
  );
  return 0;
}

/** apps_domain of an existing config: a later run names the apps CHP's unit too. Unreadable or invalid: none. */
function configuredAppsDomain(layout: Layout): string | undefined {
  try {
    const domain = (
      parse(readIfExists(at(layout, layout.configFile)) ?? '') as { apps_domain?: unknown } | null
    )?.apps_domain;
    return typeof domain === 'string' ? domain : undefined;
  } catch {
    return undefined;
  }
}

/** The options checked (each error names its option, or chp.env's key), merged with an existing chp.env. */
function siteOptions(
  layout: Layout,
  values: Record<string, string | boolean | undefined>,
): SiteOptions {
  const str = (option: string) =>
    typeof values[option] === 'string' ? (values[option] as string) : undefined;
  const given = Object.fromEntries(
    Object.entries(ENV_OPTIONS).map(([key, option]) => [key, str(option)]),
  );
  const envFile = at(layout, layout.chpEnvFile);
  const env = mergeChpEnv(readIfExists(envFile), envFile, given);
  return {
    env,
    ...configOptions({
      'public-url': str('public-url'),
      'apps-domain': str('apps-domain'),
      'apps-scheme': str('apps-scheme'),
      'apps-port': str('apps-port'),
    }),
  };
}

function formatStep(r: StepReport): string {
  return `  ${r.status.padEnd(6)} ${r.text}\n`;
}

function nodePath(): string {
  if (!isAbsolute(process.execPath))
    throw new HubappsError('node_path', `cannot tell where node is (${process.execPath})`);
  return process.execPath;
}

function nextSteps(
  l: Layout,
  opts: {
    dryRun: boolean;
    chpMissing: boolean;
    hubDropIn: boolean;
    hubSpawner: boolean;
    appsDomain?: string;
  },
): string {
  const chpUnit = l.chpUnitFile.split('/').pop()!;
  const appsChpUnit = opts.appsDomain ? ` ${l.appsChpUnitFile.split('/').pop()!}` : '';
  const lines = [
    ...(opts.chpMissing ? [`Install configurable-http-proxy: ${chpManualInstall(l)}`] : []),
    `Edit ${l.configFile} (public_url, allowed_group, jupyterhub) and add apps to ${l.catalogDir} (start from files.yaml.sample; tested recipes in ${l.libDir}/docs/apps.md).`,
    `Connect JupyterHub (${l.libDir}/docs/jupyterhub.md): its CHP settings use the token in ${l.chpTokenFile}, which install made and never replaces.` +
      (opts.hubDropIn
        ? ` Put them into ${l.jupyterhubConfig}, which the drop-in makes Debian's hub read.`
        : ` With Debian's jupyterhub package, run install again with --jupyterhub-config first.`),
    ...(opts.hubSpawner
      ? [
          `HubappsSpawner: set jupyterhub.spawner_token: credential:spawner-token in ${l.configFile}, and the spawner lines in ${l.jupyterhubConfig} (${l.libDir}/docs/jupyterhub.md, "Drop-in for sudospawner").`,
        ]
      : []),
    `Put the users who may start apps into ${l.allowedGroup}: usermod -aG ${l.allowedGroup} USER`,
    `Check everything: ${l.cliLink} doctor --config ${l.configFile}`,
    ...(opts.appsDomain
      ? [
          `Per-server origins on *.${opts.appsDomain}: a wildcard DNS record and certificate, and nginx in front of the apps CHP (ports in ${l.chpEnvFile}; ${l.libDir}/docs/install.md, "Per-server origins").`,
        ]
      : []),
    `Start it: systemctl daemon-reload && systemctl enable --now ${chpUnit}${appsChpUnit} ${l.name} && systemctl restart jupyterhub`,
  ];
  const head = opts.dryRun ? 'next steps (after a real run):' : 'next steps:';
  return `\n${head}\n${lines.map((line, i) => `  ${i + 1}. ${line}\n`).join('')}`;
}
