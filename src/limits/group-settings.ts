import { z } from 'zod';
import type { ServerLimitsConfig } from './resources.js';

/** The same rule as src/users/groups.ts: what getent and NSS take as a group name. */
const GROUP_NAME = /^(?!\d+$)[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}$/;

const count = (what: string) => z.number().int().min(0).optional().describe(what);
const memory = (what: string) => z.number().int().min(16).optional().describe(what);
const cores = (what: string) => z.number().positive().max(1024).optional().describe(what);

/** One group's settings: each key replaces the global one of the same name for the group's members. */
const groupSettingSchema = z
  .strictObject({
    servers_per_user: count('Replaces limits.servers_per_user (0: no limit).'),
    idle_timeout: count(
      "Replaces culler.idle_timeout (0: never); an app file's own idle_timeout still wins.",
    ),
    max_age: count('Replaces culler.max_age (0: never).'),
    mem_mb: memory('Replaces server_limits.mem_mb, the memory of a server whose app sets none.'),
    cpus: cores('Replaces server_limits.cpus.'),
    max_mem_mb: memory('Replaces server_limits.max_mem_mb, the most memory one server may get.'),
    max_cpus: cores('Replaces server_limits.max_cpus.'),
    user_mem_mb: count('Replaces server_limits.user_mem_mb (0: no limit).'),
    user_cpus: z
      .number()
      .min(0)
      .optional()
      .describe('Replaces server_limits.user_cpus (0: no limit).'),
  })
  .refine((s) => Object.keys(s).length > 0, {
    message: 'set at least one key (servers_per_user, idle_timeout, max_age, mem_mb, ...)',
  });

export type GroupSetting = z.output<typeof groupSettingSchema>;

/** hubapps.yaml's `group_settings`: Unix group name → the settings its members get instead of the global ones. */
export const groupSettingsSchema = z
  .record(z.string().regex(GROUP_NAME, 'must be a Unix group name'), groupSettingSchema)
  .default({})
  .describe(
    'Per-group overrides of limits.servers_per_user, the culler and server_limits, keyed by Unix group. A user in none of these groups gets the global values; a user in one gets its values; a user in several gets, key by key, the most generous of those groups (0, meaning no limit or never, beats any number). See docs/install.md, "Per-group settings".',
  );

/** What one user's servers are held to. */
export interface UserSettings {
  servers_per_user: number;
  culler: { idle_timeout: number; max_age: number };
  server_limits: ServerLimitsConfig;
}

/** Keys where 0 means "no limit" or "never", so 0 is the most generous value. */
const ZERO_IS_UNLIMITED = new Set<keyof GroupSetting>([
  'servers_per_user',
  'idle_timeout',
  'max_age',
  'user_mem_mb',
  'user_cpus',
]);

interface GlobalSettings {
  limits: { servers_per_user: number };
  culler: { idle_timeout: number; max_age: number };
  server_limits: ServerLimitsConfig;
  group_settings: Record<string, GroupSetting>;
}

/**
 * The settings of a member of `groups`. Each listed group the user is in stands for a
 * whole profile (the global values with the group's keys replaced), and the user gets,
 * key by key, the most generous of those profiles. Being in a second group therefore never
 * takes anything away, and a profile that is valid on its own (mem_mb within max_mem_mb)
 * stays valid when combined.
 */
export function settingsFor(config: GlobalSettings, groups: readonly string[]): UserSettings {
  const global: Required<GroupSetting> = {
    servers_per_user: config.limits.servers_per_user,
    idle_timeout: config.culler.idle_timeout,
    max_age: config.culler.max_age,
    mem_mb: config.server_limits.mem_mb,
    cpus: config.server_limits.cpus,
    max_mem_mb: config.server_limits.max_mem_mb,
    max_cpus: config.server_limits.max_cpus,
    user_mem_mb: config.server_limits.user_mem_mb,
    user_cpus: config.server_limits.user_cpus,
  };
  const profiles = [...new Set(groups)].flatMap((g) =>
    Object.hasOwn(config.group_settings, g)
      ? [profile(global, config.group_settings[g] ?? {})]
      : [],
  );
  const merged = profiles.length === 0 ? global : combine(profiles);
  return {
    servers_per_user: merged.servers_per_user,
    culler: { idle_timeout: merged.idle_timeout, max_age: merged.max_age },
    server_limits: {
      ...config.server_limits,
      mem_mb: merged.mem_mb,
      cpus: merged.cpus,
      max_mem_mb: merged.max_mem_mb,
      max_cpus: merged.max_cpus,
      user_mem_mb: merged.user_mem_mb,
      user_cpus: merged.user_cpus,
    },
  };
}

/**
 * The global values with a group's keys replaced. A group that lowers a cap below the
 * global default without setting its own default gets the cap as its default: "students
 * get at most 1 GB" should not make every app without its own limits unstartable for them.
 */
function profile(global: Required<GroupSetting>, group: GroupSetting): Required<GroupSetting> {
  const p = { ...global, ...group };
  if (group.mem_mb === undefined) p.mem_mb = Math.min(p.mem_mb, p.max_mem_mb);
  if (group.cpus === undefined) p.cpus = Math.min(p.cpus, p.max_cpus);
  return p;
}

function combine(profiles: Required<GroupSetting>[]): Required<GroupSetting> {
  const [first, ...rest] = profiles as [Required<GroupSetting>, ...Required<GroupSetting>[]];
  const out = { ...first };
  for (const p of rest) {
    for (const key of Object.keys(out) as (keyof GroupSetting)[]) {
      out[key] = moreGenerous(key, out[key], p[key]);
    }
  }
  return out;
}

function moreGenerous(key: keyof GroupSetting, a: number, b: number): number {
  if (ZERO_IS_UNLIMITED.has(key) && (a === 0 || b === 0)) return 0;
  return Math.max(a, b);
}

/**
 * A group that sets a default above its own cap (mem_mb over max_mem_mb, cpus over
 * max_cpus, either set by the group or inherited) contradicts itself: refused when the
 * config loads, naming the key, rather than at every start of an app without limits.
 */
export function groupSettingProblems(
  limits: ServerLimitsConfig,
  groups: Record<string, GroupSetting>,
): { path: string[]; message: string }[] {
  return Object.entries(groups).flatMap(([group, s]) => {
    const out: { path: string[]; message: string }[] = [];
    const maxMem = s.max_mem_mb ?? limits.max_mem_mb;
    const maxCpus = s.max_cpus ?? limits.max_cpus;
    if (s.mem_mb !== undefined && s.mem_mb > maxMem)
      out.push({
        path: ['group_settings', group, 'mem_mb'],
        message: `group ${group} sets mem_mb ${s.mem_mb} above its max_mem_mb ${maxMem}: its servers could not start; lower mem_mb or raise max_mem_mb`,
      });
    if (s.cpus !== undefined && s.cpus > maxCpus)
      out.push({
        path: ['group_settings', group, 'cpus'],
        message: `group ${group} sets cpus ${s.cpus} above its max_cpus ${maxCpus}: its servers could not start; lower cpus or raise max_cpus`,
      });
    return out;
  });
}
