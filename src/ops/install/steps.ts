import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { dirname, join } from 'node:path';
import { DEFAULT_MIN_UID } from '../../config/schema.js';
import { HubappsError } from '../../errors.js';
import {
  ensureDir,
  ensureFile,
  ensureFileOnce,
  ensureSymlink,
  ensureTree,
  lstatOrUndefined,
  type EnsureOptions,
  type Owner,
} from './ensure.js';
import { at, type Layout } from './layout.js';
import { programTree } from './program-tree.js';
import { cliWrapperScript, portGuardWrapperScript, proxyWrapperScript } from './proxy-wrapper.js';
import {
  renderAppsChpUnit,
  renderGuardSudoers,
  renderSudoers,
  renderSysusers,
  renderTmpfiles,
  renderUnit,
} from './render.js';
import { sampleApp, sampleConfig } from './samples.js';
import { renderChpEnv, type SiteOptions } from './site.js';
import { getGroup, getPasswd, groupName, runChecked, runCommand } from '../system.js';

/** One line of install's report. 'would': a change a dry run leaves undone; 'skip': not done under --root. */
export interface StepReport {
  status: 'ok' | 'done' | 'would' | 'skip';
  text: string;
}

export interface InstallContext {
  layout: Layout;
  /** Ports, addresses and domains the admin chose (or the defaults). */
  site: SiteOptions;
  dryRun: boolean;
  /** The package install copies from. */
  source: string;
  /** Absolute path of the node binary the wrappers run. */
  node: string;
  /** Running as root: files get owners, accounts can be created. */
  root: boolean;
}

const ROOT_OWNER: Owner = { uid: 0, gid: 0 };

export function rootOpts(ctx: InstallContext): EnsureOptions {
  return { dryRun: ctx.dryRun, owner: ctx.root ? ROOT_OWNER : undefined };
}

export function report(ctx: InstallContext, changed: boolean, what: string): StepReport {
  return { status: !changed ? 'ok' : ctx.dryRun ? 'would' : 'done', text: what };
}

/** Where `path` is written, with its parent directories made (/etc/systemd/system under a scratch root); not reported. */
export function writePath(ctx: InstallContext, path: string): string {
  const file = at(ctx.layout, path);
  if (!ctx.dryRun) fs.mkdirSync(dirname(file), { recursive: true, mode: 0o755 });
  return file;
}

export function serviceUserStep(ctx: InstallContext): StepReport[] {
  const { serviceUser, dataDir } = ctx.layout;
  const existing = getPasswd(serviceUser);
  if (existing)
    return [{ status: 'ok', text: `service user ${serviceUser} exists (uid ${existing.uid})` }];
  const args = [
    '--system',
    '--user-group',
    '--no-create-home',
    '--home-dir',
    dataDir,
    '--shell',
    '/usr/sbin/nologin',
    '--comment',
    'hubapps service',
    serviceUser,
  ];
  const text = `create service user ${serviceUser}: useradd ${args.join(' ')}`;
  if (ctx.layout.root !== '')
    return [
      {
        status: 'skip',
        text: `${text} (not under --root: ${ctx.layout.sysusersFile} describes it)`,
      },
    ];
  if (!ctx.dryRun) runChecked('useradd', args);
  return [report(ctx, true, text)];
}

export function allowedGroupStep(ctx: InstallContext): StepReport[] {
  const { allowedGroup } = ctx.layout;
  const existing = getGroup(allowedGroup);
  if (existing)
    return [
      {
        status: 'ok',
        text: `allowed group ${allowedGroup} exists (${existing.members.length} listed member(s))`,
      },
    ];
  const text = `create allowed group ${allowedGroup}: groupadd ${allowedGroup}`;
  if (ctx.layout.root !== '') return [{ status: 'skip', text: `${text} (not under --root)` }];
  if (!ctx.dryRun) runChecked('groupadd', [allowedGroup]);
  return [report(ctx, true, text)];
}

export function programStep(ctx: InstallContext): StepReport[] {
  const { libRoot, libDir } = ctx.layout;
  const target = at(ctx.layout, libDir);
  if (lstatOrUndefined(target) && fs.realpathSync(target) === fs.realpathSync(ctx.source)) {
    return [{ status: 'ok', text: `program in ${libDir}: install runs from it, left as it is` }];
  }
  writePath(ctx, libRoot);
  ensureDir(at(ctx.layout, libRoot), 0o755, rootOpts(ctx));
  const tree = programTree(ctx.source);
  const r = ensureTree(target, tree, 0o755, 0o644, rootOpts(ctx));
  const what = `program in ${libDir} (${tree.size} entries, root-owned, read-only for others)`;
  return [
    report(
      ctx,
      r.changed + r.removed > 0,
      r.changed + r.removed > 0 ? `${what}: ${r.changed} written, ${r.removed} removed` : what,
    ),
  ];
}

export function wrappersStep(ctx: InstallContext): StepReport[] {
  const {
    binDir,
    proxyPath,
    cliPath,
    cliLink,
    libDir,
    catalogDir,
    allowedGroup,
    portGuardPath,
    configFile,
  } = ctx.layout;
  const opts = rootOpts(ctx);
  ensureDir(at(ctx.layout, binDir), 0o755, opts);
  const policy = { allowedGroup, minUid: DEFAULT_MIN_UID };
  const proxy = ensureFile(
    at(ctx.layout, proxyPath),
    proxyWrapperScript(ctx.node, libDir, catalogDir, policy),
    0o755,
    opts,
  );
  const cli = ensureFile(at(ctx.layout, cliPath), cliWrapperScript(ctx.node, libDir), 0o755, opts);
  const guard = ensureFile(
    at(ctx.layout, portGuardPath),
    portGuardWrapperScript(ctx.node, libDir, configFile),
    0o755,
    opts,
  );
  const link = ensureSymlink(writePath(ctx, cliLink), cliPath, opts);
  return [
    report(ctx, proxy, `proxy wrapper ${proxyPath} (runs ${ctx.node})`),
    report(ctx, cli, `CLI wrapper ${cliPath}`),
    report(ctx, guard, `port guard helper ${portGuardPath} (reads ${configFile})`),
    report(ctx, link, `${cliLink} -> ${cliPath}`),
  ];
}

export function configStep(ctx: InstallContext): StepReport[] {
  const { etcDir, catalogDir, configFile } = ctx.layout;
  const opts = rootOpts(ctx);
  writePath(ctx, etcDir);
  const etc = ensureDir(at(ctx.layout, etcDir), 0o755, opts);
  const catalog = ensureDir(at(ctx.layout, catalogDir), 0o755, opts);
  const config = ensureFileOnce(
    at(ctx.layout, configFile),
    sampleConfig(ctx.layout, ctx.site),
    0o644,
    opts,
  );
  const sample = ensureFile(
    at(ctx.layout, join(catalogDir, 'files.yaml.sample')),
    sampleApp(ctx.layout),
    0o644,
    opts,
  );
  return [
    report(ctx, etc || catalog, `${etcDir} and ${catalogDir} (root, 0755)`),
    report(
      ctx,
      config,
      config
        ? `sample configuration ${configFile}`
        : `configuration ${configFile} exists: left as it is`,
    ),
    report(ctx, sample, `sample app ${catalogDir}/files.yaml.sample`),
    ...secretsStep(ctx),
    chpEnvStep(ctx),
  ];
}

/** Made once, never replaced: CHP, JupyterHub and scripts hold these. */
function secretsStep(ctx: InstallContext): StepReport[] {
  const { chpTokenFile, appsChpTokenFile, adminTokenFile } = ctx.layout;
  const secrets: Array<[string, string]> = [
    [chpTokenFile, 'CHP token'],
    [appsChpTokenFile, 'apps CHP token'],
    [adminTokenFile, 'admin token (admin_token)'],
  ];
  return secrets.map(([file, what]) => {
    const made = ensureFileOnce(
      at(ctx.layout, file),
      `${randomBytes(32).toString('hex')}\n`,
      0o600,
      rootOpts(ctx),
    );
    return report(
      ctx,
      made,
      made ? `new ${what} in ${file} (root, 0600)` : `${what} ${file} exists: left as it is`,
    );
  });
}

/** The CHP units' ports and targets: the file's values, with the options given now on top. */
function chpEnvStep(ctx: InstallContext): StepReport {
  const { chpEnvFile, chpUnitFile, appsChpUnitFile, configFile } = ctx.layout;
  const name = (unit: string) => unit.split('/').pop()!;
  const text = renderChpEnv(ctx.site.env, {
    chpUnit: name(chpUnitFile),
    appsChpUnit: name(appsChpUnitFile),
    configFile,
  });
  const changed = ensureFile(at(ctx.layout, chpEnvFile), text, 0o644, rootOpts(ctx));
  const { CHP_IP, CHP_PORT, CHP_API_PORT, APPS_CHP_PORT, APPS_CHP_API_PORT } = ctx.site.env;
  return report(
    ctx,
    changed,
    `${chpEnvFile}: CHP on ${CHP_IP}:${CHP_PORT} (API 127.0.0.1:${CHP_API_PORT}), apps CHP on 127.0.0.1:${APPS_CHP_PORT} (API 127.0.0.1:${APPS_CHP_API_PORT})`,
  );
}

export function stateDirsStep(ctx: InstallContext): StepReport[] {
  const { serviceUser, dataDir, logDir } = ctx.layout;
  const account = getPasswd(serviceUser);
  const owner = ctx.root && account ? { uid: account.uid, gid: account.gid } : undefined;
  const out = [dataDir, logDir].map((dir) =>
    report(
      ctx,
      ensureDir(writePath(ctx, dir), 0o700, { dryRun: ctx.dryRun, owner }),
      `${dir} (${serviceUser}, 0700)`,
    ),
  );
  // A dry run on a fresh host: the user the real run creates first does not exist yet.
  const pending = ctx.dryRun && ctx.root && ctx.layout.root === '';
  if (!owner && !pending) {
    out.push({
      status: 'skip',
      text: `${dataDir} and ${logDir} not handed to ${serviceUser}: ${account ? 'not running as root' : 'the user does not exist here'}`,
    });
  }
  return out;
}

/**
 * What hubapps.tmpfiles makes at boot, made now too, so the first start needs no reboot or
 * systemd-tmpfiles run: /run/NAME (root), proxies/ (3733, the service's group: setgid,
 * sticky, unlistable) and users/ (1733).
 */
export function runDirsStep(ctx: InstallContext): StepReport[] {
  const { serviceUser, runDir } = ctx.layout;
  const account = getPasswd(serviceUser);
  if (!ctx.root) return [{ status: 'skip', text: `${runDir} not made: not running as root` }];
  if (!account && !ctx.dryRun)
    return [{ status: 'skip', text: `${runDir} not made: ${serviceUser} does not exist here` }];
  const rootOwned = { uid: 0, gid: 0 };
  const dirs: Array<[string, number, { uid: number; gid: number }, string]> = [
    [runDir, 0o755, rootOwned, 'root, 0755'],
    [
      `${runDir}/proxies`,
      0o3733,
      { uid: 0, gid: account?.gid ?? 0 },
      `root:${serviceUser}'s group, 3733: the proxies' sockets`,
    ],
    [`${runDir}/users`, 0o1733, rootOwned, "root, 1733: the apps' runtime directories"],
  ];
  return dirs.map(([dir, mode, owner, what]) =>
    report(
      ctx,
      ensureDir(writePath(ctx, dir), mode, { dryRun: ctx.dryRun, owner }),
      `${dir} (${what})`,
    ),
  );
}

export function systemdStep(ctx: InstallContext): StepReport[] {
  const { unitFile, appsChpUnitFile, sysusersFile, tmpfilesFile } = ctx.layout;
  const opts = rootOpts(ctx);
  const account = getPasswd(ctx.layout.serviceUser);
  const group = account ? groupName(account.gid) : undefined;
  const files: Array<[string, string, (t: string, l: Layout) => string]> = [
    [unitFile, 'hubapps.service', (t, l) => renderUnit(t, l, group)],
    [appsChpUnitFile, 'hubapps-apps-chp.service', renderAppsChpUnit],
    [sysusersFile, 'hubapps.sysusers', renderSysusers],
    [tmpfilesFile, 'hubapps.tmpfiles', renderTmpfiles],
  ];
  return files.map(([target, template, render]) => {
    const text = render(readTemplate(ctx, template), ctx.layout);
    return report(ctx, ensureFile(writePath(ctx, target), text, 0o644, opts), target);
  });
}

/** The sudoers drop-ins (the proxy's rule, the port guard's) go live only after `visudo -cf` accepted them; a draft's name has a dot, which sudo ignores. */
export function sudoersStep(ctx: InstallContext): StepReport[] {
  const { serviceUser, allowedGroup, proxyPath, sudoersFile, portGuardPath, guardSudoersFile } =
    ctx.layout;
  const proxyRule = renderSudoers(
    readTemplate(ctx, 'hubapps.sudoers'),
    serviceUser,
    allowedGroup,
    proxyPath,
  );
  const guardRule = renderGuardSudoers(
    readTemplate(ctx, 'hubapps-port-guard.sudoers'),
    serviceUser,
    portGuardPath,
  );
  return [
    installSudoers(
      ctx,
      sudoersFile,
      proxyRule,
      `sudoers rule ${sudoersFile}: ${serviceUser} may run ${proxyPath} as members of ${allowedGroup}`,
    ),
    installSudoers(
      ctx,
      guardSudoersFile,
      guardRule,
      `sudoers rule ${guardSudoersFile}: ${serviceUser} may run ${portGuardPath} as root`,
    ),
  ];
}

function installSudoers(
  ctx: InstallContext,
  file: string,
  content: string,
  what: string,
): StepReport {
  const target = writePath(ctx, file);
  const current = lstatOrUndefined(target);
  const same =
    current?.isFile() &&
    (current.mode & 0o7777) === 0o440 &&
    (!ctx.root || current.uid === 0) &&
    fs.readFileSync(target, 'utf8') === content;
  if (same) return { status: 'ok', text: what };
  if (ctx.dryRun) return { status: 'would', text: `${what} (checked with visudo -cf first)` };
  const draft = `${target}.draft`;
  ensureFile(draft, content, 0o440, rootOpts(ctx));
  const check = runCommand('visudo', ['-cf', draft]);
  if (check.code !== 0) {
    fs.rmSync(draft, { force: true });
    if (check.error?.endsWith('ENOENT')) {
      throw new HubappsError(
        'command_failed',
        `visudo is not installed (not on PATH, nor in /usr/sbin or /sbin), and install checks every sudoers rule with it first: install the sudo package; nothing was installed at ${file}`,
      );
    }
    throw new HubappsError(
      'sudoers_invalid',
      `visudo refused the sudoers rule ${file}, nothing was installed: ${check.error ?? (check.stderr.trim() || check.stdout.trim())}`,
    );
  }
  fs.renameSync(draft, target);
  return { status: 'done', text: `${what} (visudo -cf: ok)` };
}

export function readTemplate(ctx: InstallContext, name: string): string {
  return fs.readFileSync(join(ctx.source, 'systemd', name), 'utf8');
}
