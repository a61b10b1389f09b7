import { execFile } from 'node:child_process';
import { HubappsError } from '../errors.js';
import { checkUserName } from '../names.js';
import type { Account, UserDirectory } from './account.js';
import { ExpiringCache } from './cache.js';

interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** getent's exit code for "key not found". */
const GETENT_NOT_FOUND = 2;

/**
 * Accounts from NSS through `getent passwd`, `id -G` and `getent group`, so whatever
 * nsswitch.conf configures (files, LDAP, SSSD) counts. Group names are looked up by gid
 * rather than read from `id -Gn`, whose space-separated output is ambiguous for directory
 * groups such as "domain users". Answers (including "no such user") are cached for `ttlMs`.
 */
export class NssUserDirectory implements UserDirectory {
  private readonly cache: ExpiringCache<Promise<Account>>;
  private readonly timeoutMs: number;

  constructor(opts: { ttlMs?: number; timeoutMs?: number } = {}) {
    this.cache = new ExpiringCache(opts.ttlMs ?? 10_000);
    this.timeoutMs = opts.timeoutMs ?? 10_000;
  }

  async lookup(name: string): Promise<Account> {
    checkUserName(name);
    const cached = this.cache.get(name);
    if (cached) return cached;
    const answer = this.fetch(name);
    this.cache.set(name, answer);
    // A failing NSS backend is not an answer: ask again next time.
    answer.catch((err: unknown) => {
      if (!(err instanceof HubappsError && err.code === 'unknown_user')) this.cache.delete(name);
    });
    return answer;
  }

  private async fetch(name: string): Promise<Account> {
    const passwd = await this.run('getent', ['passwd', '--', name], name);
    if (passwd.exitCode === GETENT_NOT_FOUND) throw unknownUser(name);
    if (passwd.exitCode !== 0) throw nssFailed(name, 'getent passwd', passwd);
    const account = parsePasswd(passwd.stdout);
    // getent also accepts a numeric uid; "1000" must not turn into the account with uid 1000.
    if (!account || account.name !== name) throw unknownUser(name);

    const ids = await this.run('id', ['-G', '--', name], name);
    if (ids.exitCode !== 0) throw nssFailed(name, 'id -G', ids);
    const gids = ids.stdout.trim().split(/\s+/).filter(Boolean).map(Number);
    if (!gids.includes(account.gid)) gids.unshift(account.gid);

    const groups = await this.run('getent', ['group', '--', ...gids.map(String)], name);
    // Exit 2 means some gid has no name; the others are still listed.
    if (groups.exitCode !== 0 && groups.exitCode !== GETENT_NOT_FOUND)
      throw nssFailed(name, 'getent group', groups);
    const names = parseGroupNames(groups.stdout);
    return { ...account, groups: [...new Set(gids.map((gid) => names.get(gid) ?? String(gid)))] };
  }

  private run(cmd: string, args: string[], user: string): Promise<RunResult> {
    return new Promise((resolve, reject) => {
      const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' };
      execFile(
        cmd,
        args,
        { env, timeout: this.timeoutMs, maxBuffer: 1 << 20 },
        (err, stdout, stderr) => {
          if (!err) return resolve({ exitCode: 0, stdout, stderr });
          const code = (err as { code?: unknown }).code;
          if (typeof code === 'number' && !err.killed)
            return resolve({ exitCode: code, stdout, stderr });
          const why = err.killed ? `timed out after ${this.timeoutMs} ms` : err.message;
          reject(
            new HubappsError('nss_failed', `looking up user '${user}' failed: ${cmd} ${why}`, {
              cause: err,
            }),
          );
        },
      );
    });
  }
}

function unknownUser(name: string): HubappsError {
  return new HubappsError('unknown_user', `no such user '${name}' on this host (getent passwd)`);
}

function nssFailed(name: string, what: string, r: RunResult): HubappsError {
  const detail = r.stderr.trim().split('\n')[0] ?? '';
  return new HubappsError(
    'nss_failed',
    `looking up user '${name}' failed: ${what} exited with ${r.exitCode}${detail ? `: ${detail}` : ''}`,
  );
}

/** name:passwd:uid:gid:gecos:home:shell */
function parsePasswd(stdout: string): Omit<Account, 'groups'> | undefined {
  const fields = (stdout.split('\n')[0] ?? '').split(':');
  if (fields.length < 7) return undefined;
  const [name, , uid, gid, , home, shell] = fields as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if (!/^\d+$/.test(uid) || !/^\d+$/.test(gid)) return undefined;
  return { name, uid: Number(uid), gid: Number(gid), home, shell };
}

/** Lines of name:passwd:gid:members, as a map gid -> name. */
function parseGroupNames(stdout: string): Map<number, string> {
  const names = new Map<number, string>();
  for (const line of stdout.split('\n')) {
    const [name, , gid] = line.split(':');
    if (name && gid && /^\d+$/.test(gid) && !names.has(Number(gid))) names.set(Number(gid), name);
  }
  return names;
}
