import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { renderGuardSudoers } from '../../src/ops/install/render.js';
import { portGuardWrapperScript } from '../../src/ops/install/proxy-wrapper.js';
import { runAllSteps } from '../helpers/teardown.js';
import { run } from './harness-exec.js';
import { TEST_USERS } from './harness-accounts.js';
import { repoRoot, type InstalledProxy } from './harness-install.js';
import { installSudoersText } from './harness-sudo.js';

/** The port guard as `hubapps install` lays it out: the root helper's wrapper, its sudoers rule, and a table of its own. */
export interface InstalledGuard {
  helperPath: string;
  table: string;
  remove(): Promise<void>;
}

/**
 * Write the helper's wrapper next to the installed proxy (root-owned, fixing `configFile`)
 * and the sudoers rule that lets the service user run it as root. The table's name is fixed
 * per test tag, so a run after a crashed one replaces the table it left. Needs root.
 */
export async function installPortGuard(
  installed: InstalledProxy,
  configFile: string,
): Promise<InstalledGuard> {
  const helperPath = join(installed.root, 'bin', 'hubapps-port-guard');
  await writeFile(
    helperPath,
    portGuardWrapperScript(process.execPath, join(installed.root, 'lib'), configFile),
  );
  await chmod(helperPath, 0o755);
  const template = readFileSync(join(repoRoot(), 'systemd', 'hubapps-port-guard.sudoers'), 'utf8');
  const removeRule = await installSudoersText(
    renderGuardSudoers(template, TEST_USERS.svc, helperPath),
  );
  const table = `hubapps_t_${process.env.HUBAPPS_TEST_TAG ?? ''}guard`;
  return {
    helperPath,
    table,
    remove: () =>
      runAllSteps([
        // The helper itself, as root: it removes the nftables table and the bind guard's BPF programs, which outlive every process.
        async () => {
          const r = await run(helperPath, ['remove']);
          if (r.code !== 0) throw new Error(`${helperPath} remove: ${r.stderr}`);
        },
        removeRule,
      ]),
  };
}

/** Connects to 127.0.0.1:PORT once: 'connected', or the error's code. */
const CONNECT = String.raw`
const c = require('net').connect(Number(process.argv[1]), '127.0.0.1');
c.on('connect', () => { console.log('connected'); c.destroy(); });
c.on('error', (e) => console.log(e.code));`;

/** One loopback connection to `port` as `user` (through sudo, as root): 'connected' or the error code, e.g. ECONNREFUSED when the guard resets it. */
export async function connectAs(user: string, port: number | string): Promise<string> {
  const r = await run('sudo', [
    '-n',
    '-u',
    user,
    '--',
    process.execPath,
    '-e',
    CONNECT,
    String(port),
  ]);
  return r.stdout.trim() || `no answer (${r.stderr.trim()})`;
}

/** Listens on 127.0.0.1:PORT once: 'bound', or the error's code. */
const BIND = String.raw`
const s = require('net').createServer();
s.on('error', (e) => console.log(e.code));
s.listen({ port: Number(process.argv[1]), host: '127.0.0.1', exclusive: true }, () => { console.log('bound'); s.close(); });`;

/** One bind of 127.0.0.1:`port` as `user`: 'bound' or the error code, e.g. EPERM when the bind guard refuses it. */
export async function bindAs(user: string, port: number | string): Promise<string> {
  const r = await run('sudo', ['-n', '-u', user, '--', process.execPath, '-e', BIND, String(port)]);
  return r.stdout.trim() || `no answer (${r.stderr.trim()})`;
}

/** Listens on 127.0.0.1:PORT until killed, printing 'listening' once it does. */
const LISTEN = String.raw`
require('net').createServer((c) => { c.on('error', () => undefined); c.end('hi\n'); })
  .listen(Number(process.argv[1]), '127.0.0.1', () => console.log('listening'));`;

/** A program of `user` listening on 127.0.0.1:`port` (sudo as root); resolves once it listens. */
export async function listenAs(
  user: string,
  port: number | string,
): Promise<{ stop(): Promise<void> }> {
  const child = spawn(
    'sudo',
    ['-n', '-u', user, '--', process.execPath, '-e', LISTEN, String(port)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => String(d).includes('listening') && resolve());
    child.once('close', (code) =>
      reject(new Error(`${user}'s listener on ${port} ended (${code})`)),
    );
  });
  return {
    // sudo passes SIGTERM on to the program it runs.
    stop: async () => {
      child.kill('SIGTERM');
      await closed;
    },
  };
}
