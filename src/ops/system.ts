import { spawnSync } from 'node:child_process';
import { HubappsError } from '../errors.js';

/** What an admin command printed; `code` is null when it could not be run or was killed. */
export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Set when the program could not be started at all (ENOENT, EACCES). */
  error?: string;
}

/**
 * Run a system program (argv, no shell) with a C locale, so its messages can be matched.
 * install and doctor are one-shot admin commands, so blocking is fine and keeps them simple.
 */
export function runCommand(
  file: string,
  args: string[],
  opts: { input?: string; timeoutMs?: number } = {},
): CommandResult {
  const env = { PATH: withAdminDirs(process.env.PATH), LC_ALL: 'C' };
  const r = spawnSync(file, args, {
    input: opts.input ?? '',
    env,
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 30_000,
  });
  const error = r.error
    ? `${file}: ${(r.error as NodeJS.ErrnoException).code ?? r.error.message}`
    : undefined;
  return {
    code: r.status,
    stdout: r.stdout ?? '',
    stderr: r.stderr ?? '',
    ...(error ? { error } : {}),
  };
}

/**
 * The caller's PATH, then the sbin directories: admin programs (visudo, useradd, nft) live
 * there, and a normal account's PATH (install --root into a scratch tree) lacks them.
 */
function withAdminDirs(path = '/usr/bin:/bin'): string {
  const dirs = path.split(':');
  return [...dirs, ...['/usr/sbin', '/sbin'].filter((d) => !dirs.includes(d))].join(':');
}

/** Like runCommand, but a failure throws with the program's own message. */
export function runChecked(
  file: string,
  args: string[],
  opts: { input?: string } = {},
): CommandResult {
  const r = runCommand(file, args, opts);
  if (r.code !== 0) {
    const why = r.error ?? (r.stderr.trim() || `exit status ${r.code}`);
    throw new HubappsError('command_failed', `${file} ${args.join(' ')} failed: ${why}`);
  }
  return r;
}

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

export interface GroupEntry {
  name: string;
  gid: number;
  /** The member field only: users whose primary group this is are not listed there. */
  members: string[];
}

/** getent passwd NAME, or undefined when NSS does not know the user. */
export function getPasswd(name: string): PasswdEntry | undefined {
  const r = runCommand('getent', ['passwd', '--', name]);
  const fields = r.code === 0 ? (r.stdout.split('\n')[0] ?? '').split(':') : [];
  if (fields.length < 7 || fields[0] !== name) return undefined;
  return {
    name,
    uid: Number(fields[2]),
    gid: Number(fields[3]),
    home: fields[5]!,
    shell: fields[6]!,
  };
}

/** getent group NAME, or undefined when NSS does not know the group. */
export function getGroup(name: string): GroupEntry | undefined {
  const r = runCommand('getent', ['group', '--', name]);
  const fields = r.code === 0 ? (r.stdout.split('\n')[0] ?? '').split(':') : [];
  if (fields.length < 4 || fields[0] !== name) return undefined;
  return { name, gid: Number(fields[2]), members: fields[3]!.split(',').filter(Boolean) };
}

/** The name of the group with this gid, or undefined. */
export function groupName(gid: number): string | undefined {
  const r = runCommand('getent', ['group', String(gid)]);
  return r.code === 0 ? r.stdout.split(':')[0] || undefined : undefined;
}

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}
