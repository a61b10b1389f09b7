import { accessSync, constants, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { CatalogApp } from '../../catalog/types.js';
import { APP_PATH } from '../../proxy/app/launch-plan.js';
import { expandPlaceholders } from '../../proxy/app/placeholders.js';
import { inspectCatalog } from '../check/inspect-config.js';
import { getPasswd, runCommand, type PasswdEntry } from '../system.js';
import { type CheckResult, type DoctorContext, fail, ok, skipped, warn } from './check.js';

/**
 * Every catalog app's program exists and the user may run it, found the way the proxy
 * finds it: the first word of `command` with its placeholders expanded for a member of
 * the allowed group, looked up in the app's PATH (the proxy's default, or the PATH its
 * `environment` sets) and started from the user's home. A missing program otherwise only
 * shows when a user presses Start.
 */
export function checkAppPrograms(ctx: DoctorContext): CheckResult[] {
  if (!ctx.settings) return [skipped('app programs', 'the config cannot be read')];
  const dir = ctx.settings.catalog_dir;
  const apps = inspectCatalog(dir).apps.filter((a) => a.command?.length);
  if (apps.length === 0) return [];
  const member = ctx.member ? getPasswd(ctx.member) : undefined;
  const results: CheckResult[] = [];
  const found: string[] = [];
  for (const app of apps) {
    const where = resolveProgram(app, member);
    if (where.kind === 'unknown')
      results.push(
        warn(
          `app ${app.name}: program ${where.program} not checked (${where.why})`,
          'name a member of the allowed group with --member USER',
        ),
      );
    else if (where.kind === 'missing') {
      results.push(
        fail(
          `app ${app.name}: program ${where.program} does not exist${where.searched ? ` in PATH ${where.searched}` : ''}`,
          `install it, or correct command in ${join(dir, `${app.name}.yaml`)} (docs/apps.md has tested recipes)`,
        ),
      );
    } else if (!runnableBy(where.file, member, ctx.root)) {
      results.push(
        fail(
          `app ${app.name}: ${where.file} is not executable${member ? ` by ${member.name}` : ''}`,
          `chmod a+rx ${where.file}, or correct command in ${join(dir, `${app.name}.yaml`)}`,
        ),
      );
    } else found.push(`${app.name}: ${where.file}`);
  }
  if (found.length > 0)
    results.unshift(
      ok(`app programs found${member ? ` (as ${member.name} would run them)` : ''}`, found),
    );
  return results;
}

type Resolved =
  | { kind: 'found'; file: string }
  | { kind: 'missing'; program: string; searched?: string }
  | { kind: 'unknown'; program: string; why: string };

function resolveProgram(app: CatalogApp, member: PasswdEntry | undefined): Resolved {
  const template = app.command![0]!;
  if (/\{(home|user)\}/.test(template) && !member)
    return {
      kind: 'unknown',
      program: template,
      why: 'it depends on the user, and no member of the allowed group is known',
    };
  const values = {
    port: '0',
    unix_socket: '',
    base_url: '/',
    user: member?.name ?? '',
    server: app.name,
    home: member?.home ?? '/',
  };
  const program = expandPlaceholders(template, values);
  if (program.includes('/')) {
    const file = isAbsolute(program) ? program : join(values.home, program);
    return isFile(file) ? { kind: 'found', file } : { kind: 'missing', program: file };
  }
  const path =
    app.environment.PATH !== undefined
      ? expandPlaceholders(app.environment.PATH, values)
      : APP_PATH;
  for (const dir of path.split(':').filter(Boolean)) {
    const file = join(dir, program);
    if (isFile(file)) return { kind: 'found', file };
  }
  return { kind: 'missing', program, searched: path };
}

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** As root, ask as the member (`test -x` under runuser) so permissions of every directory on the way count; otherwise as whoever runs doctor. */
function runnableBy(file: string, member: PasswdEntry | undefined, root: boolean): boolean {
  if (root && member)
    return runCommand('runuser', ['-u', member.name, '--', 'test', '-x', file]).code === 0;
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
