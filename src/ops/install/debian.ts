import type { Layout } from './layout.js';

/**
 * The control file and maintainer scripts of the Debian package (scripts/package-deb.ts).
 * The package ships only the program and CHP under /usr/lib/NAME; everything else an
 * installation consists of (accounts, /etc/NAME with its tokens and config, units, sudoers
 * rules, wrappers) is made by `hubapps install`, which postinst runs, so a package install
 * and a source install are the same steps. Removal undoes what install made; purge also
 * removes the configuration, the database and the logs.
 */

export interface DebianPackage {
  /** The package's name: the installation's name. */
  name: string;
  version: string;
  architecture: string;
  description: string;
  /** Installed size in KiB. */
  installedKb: number;
}

/** What the package needs on the host: Node >= 20.19 as Debian's or NodeSource's nodejs, sudo, and nft for the port guard. */
export const DEPENDS = 'nodejs (>= 20.19), sudo, nftables, python3, passwd';

export function controlFile(p: DebianPackage): string {
  const [summary, ...rest] = p.description.split('\n');
  return [
    `Package: ${p.name}`,
    `Version: ${p.version}`,
    `Architecture: ${p.architecture}`,
    'Maintainer: hubapps developers <hubapps@localhost>',
    `Installed-Size: ${p.installedKb}`,
    `Depends: ${DEPENDS}`,
    'Section: web',
    'Priority: optional',
    `Description: ${summary}`,
    ...rest.map((line) => ` ${line || '.'}`),
    '',
  ].join('\n');
}

/** Files install makes that no package owns; removal takes them away (the program itself is dpkg's). */
function madeByInstall(l: Layout): string[] {
  return [
    l.binDir,
    l.cliLink,
    l.unitFile,
    l.appsChpUnitFile,
    l.chpUnitFile,
    l.hubDropIn,
    l.sudoersFile,
    l.guardSudoersFile,
    l.sysusersFile,
    l.tmpfilesFile,
    l.runDir,
  ];
}

const SYSTEMD = 'if [ -d /run/systemd/system ]; then';

export function postinst(l: Layout): string {
  const units = [l.chpUnitFile, l.unitFile].map((u) => u.split('/').pop()).join(' ');
  return `#!/bin/sh
# ${l.name} postinst: what \`hubapps install\` does for a source install (idempotent: on an
# upgrade it repairs and updates, and never replaces the configuration or a token).
set -e
if [ "$1" = configure ]; then
  /usr/bin/node ${l.libDir}/dist/src/cli.js install --name ${l.name} --service-user ${l.serviceUser} --allowed-group ${l.allowedGroup}
  ${SYSTEMD}
    systemctl daemon-reload
    # Enabled, not started: the service needs its configuration first (${l.configFile}).
    systemctl enable ${units} >/dev/null 2>&1 || true
  fi
fi
exit 0
`;
}

export function prerm(l: Layout): string {
  return `#!/bin/sh
# ${l.name} prerm: stop the service before its program goes. Running apps belong to their
# users and are left alone, as \`systemctl stop ${l.name}\` always does.
set -e
if [ "$1" = remove ] || [ "$1" = deconfigure ]; then
  ${SYSTEMD}
    systemctl stop ${l.unitFile.split('/').pop()} >/dev/null 2>&1 || true
  fi
fi
exit 0
`;
}

export function postrm(l: Layout): string {
  return `#!/bin/sh
# ${l.name} postrm. remove: what install made besides the program (units, sudoers rules,
# wrappers, the port guard's nftables table). purge: also ${l.etcDir} (configuration, tokens),
# ${l.dataDir} (the database) and ${l.logDir}. The accounts ${l.serviceUser} and
# ${l.allowedGroup} stay: files elsewhere may belong to them (userdel/groupdel by hand).
set -e
case "$1" in
  remove|purge)
    rm -rf ${madeByInstall(l).join(' ')}
    rmdir ${l.libRoot} 2>/dev/null || true
    if [ -x /usr/sbin/nft ]; then /usr/sbin/nft delete table inet ${l.guardTable} 2>/dev/null || true; fi
    ${SYSTEMD} systemctl daemon-reload || true; fi
    ;;
esac
if [ "$1" = purge ]; then
  rm -rf ${l.etcDir} ${l.dataDir} ${l.logDir}
fi
exit 0
`;
}
