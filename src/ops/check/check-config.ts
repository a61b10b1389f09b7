import { statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { compileCatalog } from '../../catalog/compile.js';
import { COMPILED_DIR } from '../../catalog/compiled-form.js';
import { UnreadableSecretError } from '../../config/secrets.js';
import { capProblems } from '../../limits/resources.js';
import { appPortProblems } from '../../catalog/port-policy.js';
import { credentialsEnv } from './credentials.js';
import { inspectCatalog, inspectConfig } from './inspect-config.js';
import { stdio, type Io } from '../io.js';
import { DEFAULT_CONFIG, DEFAULT_UNIT } from '../install/layout.js';
import { isRoot } from '../system.js';

export const CHECK_CONFIG_USAGE = `usage: hubapps check-config [--config FILE] [--unit FILE]

Validates the configuration and every app file of its catalog, prints every problem (one
line each, naming the file and the key) and exits 1 if there is any; for CI and config
management (e.g. Ansible's validate). Run by the catalog's owner (root in production), it
also writes the compiled forms hubapps-proxy starts from fastest (${COMPILED_DIR}/ in the
catalog directory). Outside systemd, credential:NAME secrets are read
from the LoadCredential= lines of --unit (default ${DEFAULT_UNIT}).
`;

/** `hubapps check-config`: returns the exit status. */
export async function runCheckConfig(argv: string[], io: Io = stdio): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string', short: 'c' },
      unit: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.out(CHECK_CONFIG_USAGE);
    return 0;
  }
  const file = values.config ?? DEFAULT_CONFIG;
  const creds = credentialsEnv(values.unit ?? DEFAULT_UNIT);
  try {
    const inspection = inspectConfig(file, creds.env);
    const { settings, invalidKeys } = inspection;
    // Without root the secret files (root's, 0600) cannot be read; that they exist is what can be checked here.
    const unreadable = isRoot()
      ? []
      : inspection.problems.filter((p) => p instanceof UnreadableSecretError);
    const problems = inspection.problems.filter((p) => !unreadable.includes(p));
    for (const p of problems) io.err(`${p.message}\n`);
    if (problems.length === 0)
      io.out(
        `${file}: ok${unreadable.length ? ` (${unreadable.length} secret file(s) exist but only root can read them: ${unreadable.map((p) => p.key).join(', ')}; run as root to check their content)` : ''}\n`,
      );
    // A catalog_dir with a problem stands in as its default, which is not where the admin's apps are.
    if (!settings || invalidKeys.has('catalog_dir')) return 1;
    const catalog = inspectCatalog(settings.catalog_dir);
    const overCaps = [
      ...capProblems(settings.server_limits, catalog.apps),
      ...appPortProblems(settings.user_ports, catalog.apps),
    ];
    for (const p of [...catalog.problems.map((c) => c.message), ...overCaps]) io.err(`${p}\n`);
    if (catalog.problems.length + overCaps.length === 0) {
      io.out(
        `${settings.catalog_dir}: ${catalog.apps.length} app(s)${catalog.apps.length ? `: ${catalog.apps.map((a) => a.name).join(', ')}` : ''}\n`,
      );
      if (process.geteuid?.() === statSync(settings.catalog_dir).uid) {
        io.out(
          `${join(settings.catalog_dir, COMPILED_DIR)}: ${compileCatalog(settings.catalog_dir).length} app(s) compiled for hubapps-proxy\n`,
        );
      }
    }
    return problems.length + catalog.problems.length + overCaps.length > 0 ? 1 : 0;
  } finally {
    creds.dispose();
  }
}
