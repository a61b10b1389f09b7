import fs from 'node:fs';
import { join } from 'node:path';
import { errnoCode } from '../../errors.js';
import { openDb, readMigrations, MIGRATIONS_DIR, schemaVersion } from '../../store/db.js';
import { ACTIVE_STATES } from '../../model/states.js';
import { sqlStateList } from '../../store/servers.js';
import { getGroup, runCommand } from '../system.js';
import { asUser } from './as-user.js';
import { type CheckResult, type DoctorContext, fail, ok, skipped } from './check.js';

export function checkServiceUser(ctx: DoctorContext): CheckResult[] {
  if (!ctx.account) {
    return [
      fail(
        `service user ${ctx.serviceUser} does not exist`,
        `hubapps install creates it (or: useradd --system --user-group --shell /usr/sbin/nologin ${ctx.serviceUser})`,
      ),
    ];
  }
  if (ctx.account.uid === 0)
    return [
      fail(
        'the service runs as root',
        'run it as its own system user (User= in the unit): it needs no root rights, sudo gives it the one it needs',
      ),
    ];
  return [
    ok(
      `service user ${ctx.serviceUser} (uid ${ctx.account.uid})${ctx.root ? '' : ': doctor runs as this user'}`,
    ),
  ];
}

/** data_dir: the database, nobody else's business (0700). log_dir: the servers' logs, not for users (no access for others, no writing for the group). */
export function checkStateDirs(ctx: DoctorContext): CheckResult[] {
  if (!ctx.settings || !ctx.account)
    return [
      skipped(
        'data_dir and log_dir',
        ctx.settings ? 'no service user' : 'the config cannot be read',
      ),
    ];
  const { data_dir: data, log_dir: logs } = ctx.settings;
  return [
    checkDir('data_dir', data, ctx, 0o077, '0700'),
    checkDir('log_dir', logs, ctx, 0o027, '0700'),
  ];
}

function checkDir(
  key: string,
  dir: string,
  ctx: DoctorContext,
  forbidden: number,
  mode: string,
): CheckResult {
  const user = ctx.serviceUser;
  const fix = `install -d -o ${user} -g ${ctx.account!.gid} -m ${mode} ${dir}   (or chown ${user}: ${dir} && chmod ${mode} ${dir})`;
  let info: fs.Stats;
  try {
    info = fs.statSync(dir);
  } catch (err) {
    return fail(`${key} ${dir} does not exist (${errnoCode(err) ?? 'error'})`, fix);
  }
  if (!info.isDirectory()) return fail(`${key} ${dir} is not a directory`, fix);
  if (info.uid !== ctx.account!.uid)
    return fail(`${key} ${dir} is owned by uid ${info.uid}, not by ${user}`, fix);
  const actual = (info.mode & 0o777).toString(8).padStart(4, '0');
  if (info.mode & forbidden)
    return fail(`${key} ${dir} has mode ${actual}: other users can read or change it`, fix);
  return ok(`${key} ${dir} (${user}, ${actual})`);
}

/** Open the database as the service user, as the service would: it must open and be migrated. */
export function checkDatabase(ctx: DoctorContext): CheckResult[] {
  if (!ctx.settings || !ctx.account)
    return [skipped('database', ctx.settings ? 'no service user' : 'the config cannot be read')];
  const file = join(ctx.settings.data_dir, 'hubapps.sqlite');
  const latest = Math.max(0, ...readMigrations(MIGRATIONS_DIR).map((m) => m.version));
  try {
    const version = asUser(ctx.account, () => {
      const db = openDb(file);
      try {
        const check = db.pragma('quick_check', { simple: true });
        if (check !== 'ok') throw new Error(`SQLite quick_check: ${String(check)}`);
        return schemaVersion(db);
      } finally {
        db.close();
      }
    });
    if (version > latest) {
      return [
        fail(
          `database ${file} has schema ${version}, newer than this hubapps knows (${latest})`,
          'a database written by a newer hubapps: install that version again, or restore the backup taken before the upgrade',
        ),
      ];
    }
    return [ok(`database ${file} opens as ${ctx.serviceUser}, schema ${version} (up to date)`)];
  } catch (err) {
    return [
      fail(
        `database ${file} does not open as ${ctx.serviceUser}: ${(err as Error).message}`,
        `the file must be ${ctx.serviceUser}'s (chown ${ctx.serviceUser}: ${file}*); if it is damaged, restore it from a backup (docs/operations.md)`,
      ),
    ];
  }
}

/**
 * Users with active servers who are no longer in the allowed group (or no longer exist):
 * removing someone from the group stops new starts, but what they already run keeps
 * running as them until it is stopped. Reported by name, while the others stay untouched.
 */
export function checkActiveOwners(ctx: DoctorContext): CheckResult[] {
  if (!ctx.settings || !ctx.account)
    return [
      skipped(
        'owners of active servers',
        ctx.settings ? 'no service user' : 'the config cannot be read',
      ),
    ];
  const group = getGroup(ctx.settings.allowed_group);
  if (!group)
    return [
      skipped(
        'owners of active servers',
        `the allowed group ${ctx.settings.allowed_group} does not exist`,
      ),
    ];
  let active: Array<{ user: string; name: string }>;
  try {
    active = asUser(ctx.account, () => {
      const db = openDb(join(ctx.settings!.data_dir, 'hubapps.sqlite'));
      try {
        return db
          .prepare(
            `SELECT user, name FROM servers WHERE state IN ${sqlStateList(ACTIVE_STATES)} ORDER BY user, name`,
          )
          .all() as Array<{ user: string; name: string }>;
      } finally {
        db.close();
      }
    });
  } catch (err) {
    return [
      skipped('owners of active servers', `the database does not open: ${(err as Error).message}`),
    ];
  }
  const outside = new Map<string, string[]>();
  const members = new Map<string, boolean>();
  for (const s of active) {
    if (!members.has(s.user)) members.set(s.user, inGroup(s.user, group.gid));
    if (!members.get(s.user)) outside.set(s.user, [...(outside.get(s.user) ?? []), s.name]);
  }
  if (outside.size === 0)
    return [
      ok(
        `owners of active servers: none outside ${group.name} (${members.size} user(s) with active servers)`,
      ),
    ];
  const list = [...outside].map(([user, names]) => `${user} (${names.join(', ')})`).join('; ');
  return [
    fail(
      `active servers of users no longer in ${group.name}: ${list}`,
      `stop them as an admin: DELETE {service_prefix}api/users/USER/servers/NAME (or the Stop button in the launcher's admin view); put the user back in ${group.name} if the removal was a mistake`,
    ),
  ];
}

/** Member through the primary or a supplementary group, as NSS says (`id -G`); an unknown user is not a member. */
function inGroup(user: string, gid: number): boolean {
  const r = runCommand('id', ['-G', '--', user]);
  return r.code === 0 && r.stdout.trim().split(/\s+/).map(Number).includes(gid);
}
