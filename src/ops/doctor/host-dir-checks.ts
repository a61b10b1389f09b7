import fs from 'node:fs';
import { errnoCode } from '../../errors.js';
import { hostDirs } from '../../launchers/host-dirs.js';
import { groupName } from '../system.js';
import { type CheckResult, type DoctorContext, fail, ok, skipped, warn } from './check.js';

const mode = (m: number) => (m & 0o7777).toString(8).padStart(4, '0');

/**
 * proxy_socket_dir and runtime_dir decide who can reach a proxy and who can squat an app's
 * socket, so their owner and mode are checked exactly (docs/security.md, "Local users").
 * The local launcher makes both itself under data_dir, private to the service's user.
 */
export function checkHostDirs(ctx: DoctorContext): CheckResult[] {
  if (!ctx.settings || !ctx.account)
    return [
      skipped(
        'proxy_socket_dir and runtime_dir',
        ctx.settings ? 'no service user' : 'the config cannot be read',
      ),
    ];
  if (ctx.settings.launcher === 'local')
    return [ok('proxy_socket_dir and runtime_dir: the local launcher keeps them under data_dir')];
  const dirs = hostDirs(ctx.settings);
  const group = groupName(ctx.account.gid) ?? String(ctx.account.gid);
  const fixAll = 'systemd-tmpfiles --create (hubapps.tmpfiles), or hubapps install';
  return [
    checkOne(
      'proxy_socket_dir',
      dirs.proxySockets,
      0o3733,
      ctx.account.gid,
      `root:${group}`,
      fixAll,
      `install -d -o root -g ${group} -m 3733 ${dirs.proxySockets}`,
    ),
    checkOne(
      'runtime_dir',
      dirs.runtime,
      0o1733,
      undefined,
      'root',
      fixAll,
      `install -d -o root -m 1733 ${dirs.runtime}`,
    ),
    ...(dirs.runtime.startsWith('/tmp/') || dirs.runtime === '/tmp'
      ? [
          fail(
            `runtime_dir ${dirs.runtime} is in /tmp`,
            'use /run/hubapps/users (the default): runtime directories do not belong in a directory every account shares',
          ),
        ]
      : []),
  ];
}

function checkOne(
  key: string,
  dir: string,
  want: number,
  gid: number | undefined,
  owner: string,
  fixAll: string,
  fixOne: string,
): CheckResult {
  const fix = `${fixAll}; by hand: ${fixOne}`;
  let info: fs.Stats;
  try {
    info = fs.lstatSync(dir);
  } catch (err) {
    return fail(`${key} ${dir} does not exist (${errnoCode(err) ?? 'error'})`, fix);
  }
  if (!info.isDirectory()) return fail(`${key} ${dir} is not a directory`, fix);
  if (info.uid !== 0)
    return fail(
      `${key} ${dir} is owned by uid ${info.uid}, not root: its owner could remove anyone's sockets`,
      fix,
    );
  if (gid !== undefined && info.gid !== gid)
    return fail(
      `${key} ${dir} has group ${info.gid}, not the service's: neither the service nor CHP could connect to the proxies`,
      fix,
    );
  if ((info.mode & 0o7777) !== want)
    return fail(`${key} ${dir} has mode ${mode(info.mode)}, not ${mode(want)}`, fix);
  return ok(`${key} ${dir} (${owner}, ${mode(want)})`);
}

/**
 * An outgoing connection takes its local port from net.ipv4.ip_local_port_range; an app
 * given a port there can find it taken by one, and its start fails.
 */
export function checkPortRange(
  ctx: DoctorContext,
  rangeFile = '/proc/sys/net/ipv4/ip_local_port_range',
): CheckResult[] {
  if (!ctx.settings) return [skipped('port_range', 'the config cannot be read')];
  const { min, max } = ctx.settings.port_range;
  let ephemeral: number[];
  try {
    ephemeral = fs.readFileSync(rangeFile, 'utf8').trim().split(/\s+/).map(Number);
  } catch (err) {
    return [
      warn(
        `port_range ${min}-${max}: the kernel's ephemeral range is unknown (${errnoCode(err) ?? 'error'})`,
      ),
    ];
  }
  const [low, high] = ephemeral as [number, number];
  if (max < low || min > high)
    return [ok(`port_range ${min}-${max} is outside the ephemeral ports ${low}-${high}`)];
  return [
    warn(
      `port_range ${min}-${max} overlaps the kernel's ephemeral ports ${low}-${high}: an outgoing connection can hold a port an app is about to bind`,
      `choose a range outside it, e.g. port_range: {min: 20000, max: 29999}`,
    ),
  ];
}
