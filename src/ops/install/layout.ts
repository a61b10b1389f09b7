import { join } from 'node:path';
import { HubappsError } from '../../errors.js';
import { checkUserName } from '../../names.js';

/**
 * Where an installation lives. Every path here is the path as the running system sees it
 * (it goes into the unit, the sudoers rule and the wrappers); `at()` adds the scratch root
 * of `install --root DIR` for the place the file is actually written.
 *
 * `name` (default "hubapps") names every path, so a test can install a complete second
 * copy (hubapps-t-*) on a real machine without touching a real installation.
 */
export interface Layout {
  name: string;
  /** '' for the real system, else the scratch root every path is written below. */
  root: string;
  serviceUser: string;
  allowedGroup: string;
  libRoot: string;
  /** The program: dist/src, migrations, package.json, node_modules, systemd templates, docs. */
  libDir: string;
  binDir: string;
  proxyPath: string;
  /** The port guard's root helper (a wrapper that fixes --config), named in guardSudoersFile. */
  portGuardPath: string;
  /** The port guard's nftables table: one per installation. */
  guardTable: string;
  cliPath: string;
  /** A symlink to cliPath on PATH. */
  cliLink: string;
  etcDir: string;
  configFile: string;
  catalogDir: string;
  chpTokenFile: string;
  /** The apps CHP's token (per-server origins). */
  appsChpTokenFile: string;
  /** The service's admin token (admin_token: credential:admin-token). */
  adminTokenFile: string;
  /** HubappsSpawner's token (jupyterhub.spawner_token: credential:spawner-token; install --jupyterhub-spawner). */
  spawnerTokenFile: string;
  /** The drop-in that hands spawnerTokenFile to the service as a credential. */
  spawnerDropIn: string;
  /** Ports and targets both CHP units read (install's --chp-port, ...). */
  chpEnvFile: string;
  dataDir: string;
  logDir: string;
  /** Root's directory in /run: the proxies' sockets and the apps' runtime directories (hubapps.tmpfiles recreates it at boot). */
  runDir: string;
  unitFile: string;
  /** The apps CHP's unit (per-server origins). */
  appsChpUnitFile: string;
  sudoersFile: string;
  guardSudoersFile: string;
  sysusersFile: string;
  tmpfilesFile: string;
  /** configurable-http-proxy, pinned to the version the checkout's lockfile installed. */
  chpDir: string;
  chpUnitFile: string;
  /** The drop-in that makes Debian's jupyterhub.service read jupyterhubConfig (install --jupyterhub-config). */
  hubDropIn: string;
  jupyterhubConfig: string;
}

/** Where admin commands look without --config, and doctor for the unit: a default installation's files (makeLayout()). */
export const DEFAULT_CONFIG = '/etc/hubapps/hubapps.yaml';
export const DEFAULT_UNIT = '/etc/systemd/system/hubapps.service';

/** Where the drop-in of `install --jupyterhub-config` makes Debian's hub read its settings. */
export const JUPYTERHUB_CONFIG = '/etc/jupyterhub/jupyterhub_config.py';

/** Instance names end up in file names under /etc/sudoers.d, where sudo ignores names with a dot. */
const INSTANCE_NAME = /^[a-z][a-z0-9_-]{0,31}$/;

export interface LayoutOptions {
  name?: string;
  root?: string;
  serviceUser?: string;
  allowedGroup?: string;
}

export function makeLayout(opts: LayoutOptions = {}): Layout {
  const name = opts.name ?? 'hubapps';
  if (!INSTANCE_NAME.test(name)) {
    throw new HubappsError(
      'invalid_name',
      `invalid installation name '${name}': use a-z 0-9 _ -, starting with a letter, no dots`,
    );
  }
  const serviceUser = checkUserName(opts.serviceUser ?? name);
  const allowedGroup = checkUserName(opts.allowedGroup ?? `${name}-users`);
  const libRoot = `/usr/lib/${name}`;
  const binDir = `${libRoot}/bin`;
  const etcDir = `/etc/${name}`;
  return {
    name,
    root: opts.root ?? '',
    serviceUser,
    allowedGroup,
    libRoot,
    libDir: `${libRoot}/lib`,
    binDir,
    proxyPath: `${binDir}/hubapps-proxy`,
    portGuardPath: `${binDir}/hubapps-port-guard`,
    // nftables names take no '-': hubapps-lab guards in table hubapps_lab.
    guardTable: name.replaceAll('-', '_').slice(0, 31),
    cliPath: `${binDir}/hubapps`,
    cliLink: `/usr/bin/${name}`,
    etcDir,
    configFile: `${etcDir}/hubapps.yaml`,
    catalogDir: `${etcDir}/apps.d`,
    chpTokenFile: `${etcDir}/chp-token`,
    appsChpTokenFile: `${etcDir}/apps-chp-token`,
    adminTokenFile: `${etcDir}/admin-token`,
    spawnerTokenFile: `${etcDir}/spawner-token`,
    spawnerDropIn: `/etc/systemd/system/${name}.service.d/jupyterhub-spawner.conf`,
    chpEnvFile: `${etcDir}/chp.env`,
    dataDir: `/var/lib/${name}`,
    logDir: `/var/log/${name}`,
    runDir: `/run/${name}`,
    unitFile: `/etc/systemd/system/${name}.service`,
    appsChpUnitFile: `/etc/systemd/system/${name}-apps-chp.service`,
    sudoersFile: `/etc/sudoers.d/${name}`,
    guardSudoersFile: `/etc/sudoers.d/${name}-port-guard`,
    sysusersFile: `/usr/lib/sysusers.d/${name}.conf`,
    tmpfilesFile: `/usr/lib/tmpfiles.d/${name}.conf`,
    chpDir: `${libRoot}/chp`,
    // Another installation's name keeps its CHP unit apart from the real one.
    chpUnitFile: `/etc/systemd/system/${name === 'hubapps' ? 'configurable-http-proxy' : `${name}-chp`}.service`,
    hubDropIn: `/etc/systemd/system/jupyterhub.service.d/${name}.conf`,
    jupyterhubConfig: JUPYTERHUB_CONFIG,
  };
}

/** Where `path` is written: below the scratch root, if there is one. */
export function at(layout: Layout, path: string): string {
  return layout.root === '' ? path : join(layout.root, path);
}
