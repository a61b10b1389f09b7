import { z } from 'zod';
import { HubappsError } from '../errors.js';

const choice = (what: string) =>
  z.strictObject({ max: z.number().int().min(1).describe(`Most ${what} a user may ask for.`) });

/**
 * An app file's `limits` key: what one server of the app gets on this host, and what users
 * may change within limits. The same shape as the `slurm` key, so an app moves between the
 * two without relearning; the admin's caps (server_limits in hubapps.yaml) bound both.
 */
export const hostLimitsAppSchema = z.strictObject({
  mem_mb: z
    .number()
    .int()
    .min(16)
    .optional()
    .describe('Memory of one server (proxy and app together) in MB; unset: server_limits.mem_mb.'),
  cpus: z
    .number()
    .positive()
    .max(1024)
    .optional()
    .describe(
      'CPU cores one server may use (a quota: 0.5 is half a core); unset: server_limits.cpus.',
    ),
  pids: z
    .number()
    .int()
    .min(16)
    .optional()
    .describe('Processes and threads one server may have; unset: server_limits.pids.'),
  choices: z
    .strictObject({
      mem_mb: choice('MB of memory')
        .optional()
        .describe('Offer the option `mem_mb` (replaces mem_mb).'),
      cpus: choice('cores').optional().describe('Offer the option `cpus` (replaces cpus).'),
    })
    .prefault({})
    .describe(
      'What users may choose when they start the app, up to these limits and the admin caps (the start dialog offers them; the service checks them).',
    ),
});

export type HostLimitsApp = z.output<typeof hostLimitsAppSchema>;

/** hubapps.yaml's `server_limits`: the defaults, the caps no app file or user can exceed, the per-user totals. */
export const serverLimitsConfigSchema = z
  .strictObject({
    cgroups: z
      .enum(['off', 'auto', 'required'])
      .default('auto')
      .describe(
        'Run each server of this host in its own cgroup with the limits below. "required": a start fails when the cgroup root is missing or not writable; "auto": the server starts without limits and the service logs a warning; "off": no cgroups. See docs/install.md.',
      ),
    cgroup_name: z
      .string()
      .regex(/^[a-z][a-z0-9_.-]{0,62}$/, 'must be a plain directory name')
      .default('hubapps')
      .describe(
        'cgroup v1 only: the delegated directory /sys/fs/cgroup/CONTROLLER/NAME that `hubapps cgroup-setup` creates. On cgroup v2 the service uses its own (Delegate=yes) cgroup.',
      ),
    mem_mb: z
      .number()
      .int()
      .min(16)
      .default(2048)
      .describe(
        'Memory of a server (its proxy and app) in MB when its app file sets none; the kernel kills the app beyond it.',
      ),
    cpus: z
      .number()
      .positive()
      .max(1024)
      .default(1)
      .describe('CPU cores of a server when its app file sets none (a quota: 0.5 is half a core).'),
    pids: z
      .number()
      .int()
      .min(16)
      .default(512)
      .describe('Processes and threads of a server when its app file sets none.'),
    max_mem_mb: z
      .number()
      .int()
      .min(16)
      .default(16384)
      .describe('Most memory in MB an app file or a user may give one server.'),
    max_cpus: z
      .number()
      .positive()
      .max(1024)
      .default(8)
      .describe('Most CPU cores an app file or a user may give one server.'),
    max_pids: z
      .number()
      .int()
      .min(16)
      .default(4096)
      .describe('Most processes an app file may give one server.'),
    user_mem_mb: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe(
        "Most memory in MB of one user's active servers on this host together; a start beyond it is refused (0: no limit).",
      ),
    user_cpus: z
      .number()
      .min(0)
      .default(0)
      .describe("Most CPU cores of one user's active servers on this host together (0: no limit)."),
  })
  .prefault({})
  .describe(
    'Per-server memory, CPU and process limits on this host (cgroups), and per-user totals. Apps override the defaults in their `limits` key, within the caps.',
  );

export type ServerLimitsConfig = z.output<typeof serverLimitsConfigSchema>;

/** What one server gets. */
export interface ServerResources {
  memMb: number;
  cpus: number;
  pids: number;
}

interface LimitedApp {
  name: string;
  limits?: HostLimitsApp;
}

const CHOICE_KEYS = ['mem_mb', 'cpus'] as const;

/**
 * The limits of one server: the app's values or the admin's defaults, with the user's
 * choices applied. Throws when an option is not offered or is out of range, and when the
 * app file asks for more than the admin's caps (the admin learns which file to fix).
 */
export function serverResources(
  cfg: ServerLimitsConfig,
  app: LimitedApp,
  options: Record<string, unknown>,
): ServerResources {
  const l = app.limits;
  for (const [key, v] of Object.entries(options)) {
    const max = offeredMax(cfg, app, key);
    if (max === undefined)
      throw new HubappsError(
        'unknown_option',
        `app '${app.name}' takes no option '${key.slice(0, 40)}'${offered(cfg, app)}`,
      );
    const whole = key === 'mem_mb';
    if (
      typeof v !== 'number' ||
      !Number.isFinite(v) ||
      v <= 0 ||
      v > max ||
      (whole && !Number.isInteger(v))
    ) {
      throw new HubappsError(
        'option_out_of_range',
        `option '${key}' of app '${app.name}' must be ${whole ? 'a whole number' : 'a number'} from 1 to ${max}`,
      );
    }
  }
  const r = {
    memMb: (options.mem_mb as number | undefined) ?? l?.mem_mb ?? cfg.mem_mb,
    cpus: (options.cpus as number | undefined) ?? l?.cpus ?? cfg.cpus,
    pids: l?.pids ?? cfg.pids,
  };
  const over =
    r.memMb > cfg.max_mem_mb
      ? `mem_mb ${r.memMb} > max_mem_mb ${cfg.max_mem_mb}`
      : r.cpus > cfg.max_cpus
        ? `cpus ${r.cpus} > max_cpus ${cfg.max_cpus}`
        : r.pids > cfg.max_pids
          ? `pids ${r.pids} > max_pids ${cfg.max_pids}`
          : null;
  if (over)
    throw new HubappsError(
      'limit_above_cap',
      `app '${app.name}' asks for more than the admin allows one server (${over} in server_limits); lower its limits key`,
      { expose: true },
    );
  return r;
}

/** App files whose `limits` exceed the admin's caps: check-config names them before a start fails on them. */
export function capProblems(
  cfg: ServerLimitsConfig,
  apps: ReadonlyArray<LimitedApp & { file: string }>,
): string[] {
  if (cfg.cgroups === 'off') return [];
  return apps.flatMap((a) => {
    try {
      serverResources(cfg, a, {});
      return [];
    } catch (err) {
      return [`${a.file}: key 'limits': ${(err as Error).message}`];
    }
  });
}

/** The most a user may choose for `key`: the app's offer, never above the admin's cap. */
function offeredMax(cfg: ServerLimitsConfig, app: LimitedApp, key: string): number | undefined {
  if (!(CHOICE_KEYS as readonly string[]).includes(key)) return undefined;
  const k = key as (typeof CHOICE_KEYS)[number];
  const max = app.limits?.choices[k]?.max;
  if (max === undefined) return undefined;
  return Math.min(max, k === 'mem_mb' ? cfg.max_mem_mb : cfg.max_cpus);
}

function offered(cfg: ServerLimitsConfig, app: LimitedApp): string {
  const keys = CHOICE_KEYS.filter((k) => offeredMax(cfg, app, k) !== undefined);
  return keys.length ? `; it offers ${keys.join(', ')}` : '';
}

/**
 * Refuse a start that would take a user's active servers past the per-user totals.
 * `active`: the resources of the user's other active servers on this host.
 */
export function checkUserTotals(
  cfg: ServerLimitsConfig,
  user: string,
  wanted: ServerResources,
  active: ServerResources[],
): void {
  const mem = active.reduce((s, r) => s + r.memMb, 0);
  const cpus = active.reduce((s, r) => s + r.cpus, 0);
  if (cfg.user_mem_mb > 0 && mem + wanted.memMb > cfg.user_mem_mb) {
    throw new HubappsError(
      'limit_reached',
      `${user}'s active servers hold ${mem} MB of memory; this start asks for ${wanted.memMb} MB more, beyond the ${cfg.user_mem_mb} MB one user may have on this host. Stop a server or choose less memory`,
    );
  }
  if (cfg.user_cpus > 0 && cpus + wanted.cpus > cfg.user_cpus) {
    throw new HubappsError(
      'limit_reached',
      `${user}'s active servers hold ${cpus} CPU cores; this start asks for ${wanted.cpus} more, beyond the ${cfg.user_cpus} one user may have on this host. Stop a server or choose fewer cores`,
    );
  }
}

/** A number field of the start dialog (GET api/apps `options`): the host's choices here, and the Slurm job's numbers. */
export interface NumberOption<Name extends string> {
  name: Name;
  type: 'number';
  label: string;
  min: number;
  max: number;
  step: 1;
  default: number;
}

/** A choice the start dialog offers for a server on this host. */
export type LimitOption = NumberOption<(typeof CHOICE_KEYS)[number]>;

export function limitOptions(cfg: ServerLimitsConfig, app: LimitedApp): LimitOption[] {
  if (cfg.cgroups === 'off') return [];
  const labels = { mem_mb: 'Memory (MB)', cpus: 'CPU cores' };
  const defaults = { mem_mb: app.limits?.mem_mb ?? cfg.mem_mb, cpus: app.limits?.cpus ?? cfg.cpus };
  return CHOICE_KEYS.flatMap((k) => {
    const max = offeredMax(cfg, app, k);
    return max === undefined
      ? []
      : [
          {
            name: k,
            type: 'number' as const,
            label: labels[k],
            min: 1,
            max,
            step: 1 as const,
            default: Math.min(defaults[k], max),
          },
        ];
  });
}

/** "64 MiB", "2 GiB", "1.5 GiB": how the API and launcher show a memory limit. */
export function formatBytes(bytes: number): string {
  const mib = bytes / 1024 / 1024;
  if (mib < 1024) return `${Math.round(mib)} MiB`;
  return `${Number((mib / 1024).toFixed(1))} GiB`;
}
