import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { renderSudoers as fillTemplate } from '../../src/ops/install/render.js';
import { run, runOk, type RunResult } from './harness-exec.js';
import { TEST_USERS } from './harness-accounts.js';
import { repoRoot } from './harness-install.js';

/** systemd/hubapps.sudoers with its placeholders filled in, as `hubapps install` does: the test installs what admins install. */
export function renderSudoers(svcUser: string, group: string, proxyPath: string): string {
  return fillTemplate(
    readFileSync(join(repoRoot(), 'systemd', 'hubapps.sudoers'), 'utf8'),
    svcUser,
    group,
    proxyPath,
  );
}

/**
 * Install the rule as /etc/sudoers.d/hubapps-t-<random> (0440) after `visudo -cf` accepted
 * it; resolves to a function that removes it again. Needs root.
 */
export function writeSudoers(
  svcUser: string,
  group: string,
  proxyPath: string,
): Promise<() => Promise<void>> {
  return installSudoersText(renderSudoers(svcUser, group, proxyPath));
}

/** Install any sudoers text the same way (visudo-checked draft, then renamed into force); resolves to its remover. */
export async function installSudoersText(text: string): Promise<() => Promise<void>> {
  const target = `/etc/sudoers.d/hubapps-t-${randomBytes(4).toString('hex')}`;
  // sudo ignores files whose name contains a dot, so the unchecked draft is never in force.
  const draft = `${target}.draft`;
  await writeFile(draft, text.endsWith('\n') ? text : `${text}\n`, { mode: 0o440 });
  try {
    await runOk('visudo', ['-cf', draft]);
    await rename(draft, target);
  } catch (err) {
    await rm(draft, { force: true });
    throw err;
  }
  return () => rm(target, { force: true });
}

/**
 * What the service does to start a server, done by root for a test: become the service
 * user, then `sudo -n -u USER -- PROXY [args]` with `input` on stdin.
 */
export function sudoAsService(
  user: string,
  proxyPath: string,
  opts: { svc?: string; args?: string[]; input?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
  const svc = opts.svc ?? TEST_USERS.svc;
  const argv = ['-u', svc, '--', 'sudo', '-n', '-u', user, '--', proxyPath, ...(opts.args ?? [])];
  return run('sudo', argv, { input: opts.input, timeoutMs: opts.timeoutMs });
}
