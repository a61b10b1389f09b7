import { DEFAULT_CONFIG } from './ops/install/layout.js';
import { VERSION } from './version.js';

/** `hubapps --help`, also the man page's description (src/ops/install/man-page.ts). */
export const USAGE = `hubapps ${VERSION}: per-user web apps behind configurable-http-proxy

usage: hubapps <command> [--config FILE] [options]

commands:
  serve          run the service (systemd runs this)
  check-config   validate the config and the app catalog; exit 1 with every problem listed
  doctor         check the whole installation; one line per check, a fix for every failure
  install        lay out the program, service user, directories, unit and sudoers rule (root)
  cgroup-setup   give the service its cgroup root for per-server limits (root; the unit runs it)
  port-guard     let only each app's owner connect to its {port} (root; the service runs it with sudo)
  migrate-conf   turn jupyter-server-proxy standalone *.conf.py files into apps.d/*.yaml
  version        print the version

--config FILE defaults to ${DEFAULT_CONFIG}; \`hubapps <command> --help\` for a command's options.
`;
