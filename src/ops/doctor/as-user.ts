import type { PasswdEntry } from '../system.js';

/**
 * Run `fn` with the effective uid and gids of `account`, then switch back: doctor runs as
 * root but must open the database the way the service does, or it would create root-owned
 * files (the WAL and shared-memory files) that the service cannot open afterwards. Only
 * synchronous work may run inside: the whole process changes identity.
 */
export function asUser<T>(account: PasswdEntry | undefined, fn: () => T): T {
  const euid = process.geteuid?.();
  if (euid !== 0 || !account || account.uid === 0) return fn();
  const groups = process.getgroups!();
  const egid = process.getegid!();
  // Documented since Node 0.9 but missing from @types/node.
  (process as unknown as { initgroups(user: string, extraGroup: number): void }).initgroups(
    account.name,
    account.gid,
  );
  process.setegid!(account.gid);
  process.seteuid!(account.uid);
  try {
    return fn();
  } finally {
    process.seteuid!(0);
    process.setegid!(egid);
    process.setgroups!(groups);
  }
}

/** argv that runs `file args` as the service user: through runuser when doctor is root. */
export function commandAs(
  account: PasswdEntry,
  root: boolean,
  file: string,
  args: string[],
): [string, string[]] {
  return root && account.uid !== 0
    ? ['runuser', ['-u', account.name, '--', file, ...args]]
    : [file, args];
}
