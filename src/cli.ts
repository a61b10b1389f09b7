#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { loadCatalog } from './catalog/load.js';
import { loadConfig } from './config/load.js';
import { HubappsError } from './errors.js';
import { VERSION } from './version.js';

const DEFAULT_CONFIG = '/etc/hubapps/hubapps.yaml';

const USAGE = `hubapps ${VERSION}: per-user web apps behind configurable-http-proxy

usage: hubapps <command> [--config FILE]

commands:
  serve          run the service (systemd runs this)
  check-config   validate the config and the app catalog; exit 1 with every problem listed
  version        print the version

--config FILE defaults to ${DEFAULT_CONFIG}
`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } },
  });
  const command = positionals[0];
  if (values.help || !command) {
    process.stdout.write(USAGE);
    return command || values.help ? 0 : 2;
  }
  const configFile = values.config ?? DEFAULT_CONFIG;
  switch (command) {
    case 'serve': {
      const { serve } = await import('./serve.js');
      const service = await serve(loadConfig(configFile));
      const stop = () => void service.close().then(() => process.exit(0));
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
      return -1;
    }
    case 'check-config': {
      const config = loadConfig(configFile);
      const catalog = loadCatalog(config.catalog_dir);
      process.stdout.write(`${configFile}: ok\n${config.catalog_dir}: ${catalog.list().length} app(s): ${catalog.list().map((a) => a.name).join(', ')}\n`);
      return 0;
    }
    case 'version':
      process.stdout.write(`${VERSION}\n`);
      return 0;
    default:
      process.stderr.write(`hubapps: unknown command '${command}'\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof HubappsError) {
      process.stderr.write(`hubapps: ${err.message}\n`);
    } else {
      process.stderr.write(`hubapps: ${(err as Error)?.stack ?? String(err)}\n`);
    }
    process.exitCode = 1;
  },
);
