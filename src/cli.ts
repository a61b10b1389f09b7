#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { loadConfig } from './config/load.js';
import { HubappsError } from './errors.js';
import { USAGE } from './cli-usage.js';
import { DEFAULT_CONFIG } from './ops/install/layout.js';
import { VERSION } from './version.js';

/** Admin commands in src/ops/: each parses its own options and returns its exit status. */
const OPS: Record<string, () => Promise<(argv: string[]) => Promise<number>>> = {
  'check-config': async () => (await import('./ops/check/check-config.js')).runCheckConfig,
  doctor: async () => (await import('./ops/doctor/run.js')).runDoctor,
  install: async () => (await import('./ops/install/install.js')).runInstall,
  'cgroup-setup': async () => async (argv) =>
    (await import('./ops/cgroup-setup.js')).runCgroupSetup(argv),
  'port-guard': async () => async (argv) =>
    (await import('./ops/port-guard.js')).runPortGuard(argv),
  'migrate-conf': async () => (await import('./ops/migrate/migrate-conf.js')).runMigrateConf,
};

async function main(argv: string[]): Promise<number> {
  const ops = OPS[argv[0] ?? ''];
  if (ops) return (await ops())(argv.slice(1));
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
    case 'check-config':
      return (await OPS[command]!())(['--config', configFile]);
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
      // The CLI's own codes (usage, not_root) carry their exit status in the table; any other ends with 1.
      process.exitCode = err.status < 100 ? err.status : 1;
      return;
    } else if (String((err as { code?: unknown })?.code).startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`hubapps: ${(err as Error).message}; see hubapps --help\n`);
      process.exitCode = 2;
      return;
    } else {
      process.stderr.write(`hubapps: ${(err as Error)?.stack ?? String(err)}\n`);
    }
    process.exitCode = 1;
  },
);
