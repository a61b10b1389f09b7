import fs from 'node:fs';
import { join } from 'node:path';
import { ensureFile, ensureTree } from './ensure.js';
import {
  readTemplate,
  report,
  rootOpts,
  writePath,
  type InstallContext,
  type StepReport,
} from './steps.js';
import { at, type Layout } from './layout.js';
import { packagesTree } from './program-tree.js';
import { renderChpUnit } from './render.js';

const CHP = 'configurable-http-proxy';

/** The CHP version the checkout's lockfile installed, or undefined when it is not there (npm ci --omit=dev). */
function chpVersionIn(dir: string): string | undefined {
  try {
    return (
      JSON.parse(fs.readFileSync(join(dir, 'node_modules', CHP, 'package.json'), 'utf8')) as {
        version: string;
      }
    ).version;
  } catch {
    return undefined;
  }
}

/** The by-hand install for a host where install cannot copy CHP: the same version range package.json pins. */
export function chpManualInstall(layout: Layout): string {
  return `npm install --prefix ${layout.chpDir} --omit=dev --no-audit --no-fund ${CHP}@5.3 && chown -R root:root ${layout.chpDir}`;
}

/**
 * CHP from the checkout's node_modules (the version package-lock.json pins, with the
 * overrides of package.json), copied root-owned into its own directory: the same copy the
 * tests ran. An installed copy of hubapps has no devDependencies; then an existing CHP is
 * left as it is, and a missing one is reported with the command that installs it.
 */
export function chpStep(ctx: InstallContext): StepReport[] {
  const { chpDir } = ctx.layout;
  const version = chpVersionIn(ctx.source);
  const installed = chpVersionIn(at(ctx.layout, chpDir));
  if (!version) {
    if (installed)
      return [
        {
          status: 'ok',
          text: `${CHP} ${installed} in ${chpDir} (${ctx.source} has none to install: left as it is)`,
        },
      ];
    return [
      {
        status: 'skip',
        text: `${CHP} not installed: ${ctx.source} has no node_modules/${CHP} (installed without devDependencies). Install it with: ${chpManualInstall(ctx.layout)}`,
      },
    ];
  }
  writePath(ctx, chpDir);
  const r = ensureTree(
    at(ctx.layout, chpDir),
    packagesTree(ctx.source, [CHP]),
    0o755,
    0o644,
    rootOpts(ctx),
  );
  const what = `${CHP} ${version} in ${chpDir} (root-owned, read-only for others)`;
  return [report(ctx, r.changed + r.removed > 0, what)];
}

/** CHP's unit: DynamicUser, the token as a credential, the hub as default target. */
export function chpUnitStep(ctx: InstallContext): StepReport[] {
  const text = renderChpUnit(readTemplate(ctx, `${CHP}.service`), ctx.layout, ctx.node);
  return [
    report(
      ctx,
      ensureFile(writePath(ctx, ctx.layout.chpUnitFile), text, 0o644, rootOpts(ctx)),
      `${ctx.layout.chpUnitFile} (ports from ${ctx.layout.chpEnvFile})`,
    ),
  ];
}

/**
 * Debian's jupyterhub.service runs `jupyterhub -f /etc/jupyterhub/config/jupyterhub_config.d/config.yaml`:
 * traitlets finds no loader for .yaml and reads only config.py or config.json next to it,
 * so neither /etc/jupyterhub/jupyterhub_config.py nor the other .py files there take effect.
 * The drop-in runs the hub with jupyterhub_config.py, after the CHP it now uses.
 */
export function hubDropInStep(ctx: InstallContext): StepReport[] {
  const { hubDropIn, jupyterhubConfig, chpUnitFile } = ctx.layout;
  const unit = chpUnitFile.split('/').pop()!;
  const text = `# ${hubDropIn}: written by \`hubapps install --jupyterhub-config\`.
# Debian's jupyterhub.service runs jupyterhub -f /etc/jupyterhub/config/jupyterhub_config.d/config.yaml,
# which reads neither ${jupyterhubConfig} nor the other files next to config.yaml.
# With this drop-in the hub reads ${jupyterhubConfig} (where docs/jupyterhub.md puts the
# hubapps settings) and starts after the configurable-http-proxy it shares with hubapps.
[Unit]
Wants=${unit}
After=${unit}

[Service]
ExecStart=
ExecStart=/usr/bin/python3 -m jupyterhub.app -f ${jupyterhubConfig} --upgrade-db
`;
  const changed = ensureFile(writePath(ctx, hubDropIn), text, 0o644, rootOpts(ctx));
  return [
    report(
      ctx,
      changed,
      `${hubDropIn}: Debian's jupyterhub.service reads ${jupyterhubConfig} and starts after ${unit}`,
    ),
  ];
}
