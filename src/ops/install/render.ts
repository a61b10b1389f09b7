import { HubappsError } from '../../errors.js';
import { USER_NAME } from '../../names.js';
import type { Layout } from './layout.js';

/**
 * Fill in the files under systemd/ for one installation. The sudoers rule is a template
 * with @PLACEHOLDERS@; the unit, sysusers and tmpfiles fragments are written for the
 * default installation ("hubapps" everywhere) and are renamed here, so for the default
 * layout they are installed byte for byte as they are in the repository.
 */

/** Characters that mean something in sudoers (',', ':', '=', '\', space, ...) are not allowed in the path. */
const SUDOERS_PATH = /^\/[A-Za-z0-9_/.-]+$/;

export function renderSudoers(
  template: string,
  serviceUser: string,
  group: string,
  proxyPath: string,
): string {
  for (const name of [serviceUser, group]) {
    if (!USER_NAME.test(name))
      throw new HubappsError(
        'invalid_name',
        `'${name}' cannot go into a sudoers rule: not a valid user or group name`,
      );
  }
  if (!SUDOERS_PATH.test(proxyPath))
    throw new HubappsError(
      'invalid_path',
      `'${proxyPath}' cannot go into a sudoers rule: use letters, digits and / . _ - only`,
    );
  // Comments keep their @PLACEHOLDERS@: they show how to fill in the template by hand, which reads as nonsense once filled in.
  const fill = (line: string) =>
    line.startsWith('#')
      ? line
      : line
          .replaceAll('@SERVICE_USER@', serviceUser)
          .replaceAll('@ALLOWED_GROUP@', group)
          .replaceAll('@PROXY@', proxyPath);
  return template.split('\n').map(fill).join('\n');
}

/** The port guard's rule: the service user may run the helper as root (its wrapper fixes the config it reads). */
export function renderGuardSudoers(
  template: string,
  serviceUser: string,
  helperPath: string,
): string {
  if (!USER_NAME.test(serviceUser))
    throw new HubappsError(
      'invalid_name',
      `'${serviceUser}' cannot go into a sudoers rule: not a valid user name`,
    );
  if (!SUDOERS_PATH.test(helperPath))
    throw new HubappsError(
      'invalid_path',
      `'${helperPath}' cannot go into a sudoers rule: use letters, digits and / . _ - only`,
    );
  const fill = (line: string) =>
    line.startsWith('#')
      ? line
      : line.replaceAll('@SERVICE_USER@', serviceUser).replaceAll('@PORT_GUARD@', helperPath);
  return template.split('\n').map(fill).join('\n');
}

const DEFAULT_NAME = 'hubapps';

/** The default paths of systemd/* replaced by the layout's. */
function renamePaths(text: string, layout: Layout): string {
  const pairs: Array<[string, string]> = [
    [`/usr/lib/${DEFAULT_NAME}`, layout.libRoot],
    [`/etc/${DEFAULT_NAME}`, layout.etcDir],
    [`/var/lib/${DEFAULT_NAME}`, layout.dataDir],
    [`/var/log/${DEFAULT_NAME}`, layout.logDir],
    [`/run/${DEFAULT_NAME}`, layout.runDir],
  ];
  // Only whole path components: /etc/hubapps-other stays as it is.
  return pairs.reduce(
    (out, [from, to]) => out.replace(new RegExp(`${escape(from)}(?![\\w.-])`, 'g'), to),
    text,
  );
}

/** `group`: the service user's primary group (useradd --user-group names it after the user). */
export function renderUnit(template: string, layout: Layout, group = layout.serviceUser): string {
  const values: Record<string, string> = {
    User: layout.serviceUser,
    Group: group,
    StateDirectory: layout.name,
    LogsDirectory: layout.name,
  };
  return renamePaths(template, layout)
    .replace(
      /^(User|Group|StateDirectory|LogsDirectory)=hubapps$/gm,
      (_, key: string) => `${key}=${values[key]}`,
    )
    .replace(/\bhubapps-apps-chp\.service\b/g, `${layout.name}-apps-chp.service`);
}

/** The apps CHP's unit: the layout's paths, and the service unit it starts before. */
export function renderAppsChpUnit(template: string, layout: Layout): string {
  return socketGroup(renamePaths(template, layout), layout).replace(
    /^Before=hubapps\.service$/m,
    `Before=${layout.name}.service`,
  );
}

/** CHP joins the service's group, the group of the proxies' sockets. */
function socketGroup(unit: string, layout: Layout): string {
  return unit.replace(
    /^SupplementaryGroups=hubapps$/m,
    `SupplementaryGroups=${layout.serviceUser}`,
  );
}

/** `u NAME ID GECOS HOME SHELL`: the service user's line gets the layout's user name. */
export function renderSysusers(template: string, layout: Layout): string {
  return renamePaths(template, layout).replace(/^(u\s+)hubapps(?=\s)/gm, `$1${layout.serviceUser}`);
}

/** `d PATH MODE USER GROUP AGE`: the default service user and group become the layout's. */
export function renderTmpfiles(template: string, layout: Layout): string {
  return renamePaths(template, layout)
    .replace(
      /^(d\s+\S+\s+\S+\s+)hubapps(\s+)hubapps(?=\s)/gm,
      `$1${layout.serviceUser}$2${layout.serviceUser}`,
    )
    .replace(/^(d\s+\S+\s+\S+\s+root\s+)hubapps(?=\s)/gm, `$1${layout.serviceUser}`);
}

/** CHP's unit: the layout's paths, and the node that runs hubapps (install's own). */
export function renderChpUnit(template: string, layout: Layout, node: string): string {
  return socketGroup(renamePaths(template, layout), layout).replace(
    /exec \/usr\/bin\/node /,
    `exec ${node} `,
  );
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
