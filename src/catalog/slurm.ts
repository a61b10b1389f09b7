import { z } from 'zod';
import { HubappsError } from '../errors.js';

/** Partition, account and QOS names as sbatch takes them; nothing a shell or an option parser could misread. */
const SLURM_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;
const limit = (what: string) =>
  z.strictObject({ max: z.number().int().min(1).describe(`Most ${what} a user may ask for.`) });

/** An app file's `slurm` key: what the job asks for by default, and what users may change within limits. */
export const slurmAppSchema = z.strictObject({
  partition: z
    .string()
    .regex(SLURM_NAME, 'must be a Slurm partition name')
    .optional()
    .describe('Partition (sbatch --partition); unset: the cluster default.'),
  account: z
    .string()
    .regex(SLURM_NAME, 'must be a Slurm account name')
    .optional()
    .describe('Account to charge (sbatch --account).'),
  qos: z
    .string()
    .regex(SLURM_NAME, 'must be a Slurm QOS name')
    .optional()
    .describe('Quality of service (sbatch --qos).'),
  mem_mb: z
    .number()
    .int()
    .min(16)
    .default(1024)
    .describe(
      'Memory of the job in MB (sbatch --mem); Slurm kills the job beyond it where cgroups are enforced.',
    ),
  cpus: z.number().int().min(1).default(1).describe('CPU cores (sbatch --cpus-per-task).'),
  gpus: z.number().int().min(0).default(0).describe('GPUs (sbatch --gpus); 0: none.'),
  time_minutes: z
    .number()
    .int()
    .min(1)
    .default(60)
    .describe('Wall-time limit in minutes (sbatch --time); the job ends with TIMEOUT then.'),
  extra_args: z
    .array(
      z
        .string()
        .regex(
          /^--[a-z][a-z0-9-]*(=[^\s]*)?$/,
          'must be one long sbatch option such as --constraint=fast',
        ),
    )
    .default([])
    .describe('More sbatch options, one per item (e.g. --constraint=avx2).'),
  choices: z
    .strictObject({
      hours: limit('hours of wall time')
        .optional()
        .describe('Offer the option `hours` (replaces time_minutes).'),
      cpus: limit('cores').optional().describe('Offer the option `cpus` (replaces cpus).'),
      mem_mb: limit('MB of memory')
        .optional()
        .describe('Offer the option `mem_mb` (replaces mem_mb).'),
    })
    .prefault({})
    .describe(
      'What users may choose when they start the app, up to these limits (the start dialog offers them; the service checks them).',
    ),
});

export type SlurmApp = z.output<typeof slurmAppSchema>;

/** What one job gets: the app's defaults with the user's choices applied. */
export interface SlurmResources {
  partition?: string;
  account?: string;
  qos?: string;
  memMb: number;
  cpus: number;
  gpus: number;
  timeMinutes: number;
  extraArgs: string[];
}

const CHOICE_KEYS = ['hours', 'cpus', 'mem_mb'] as const;

/**
 * Check a start's options against the app's limits and return the job's resources. The
 * service calls it before anything runs; the proxy calls it again with its own copy of the
 * catalog, so a service cannot ask for more than the admin allows.
 */
export function slurmResources(
  app: { name: string; slurm?: SlurmApp },
  options: Record<string, unknown>,
): SlurmResources {
  const s = app.slurm;
  const keys = Object.keys(options);
  if (!s) {
    if (keys.length)
      throw new HubappsError(
        'unknown_option',
        `app '${app.name}' takes no option '${keys[0]!.slice(0, 40)}'`,
      );
    throw new HubappsError(
      'not_a_slurm_app',
      `app '${app.name}' has no slurm section in its app file, so it cannot run as a Slurm job`,
    );
  }
  for (const key of keys) {
    const choice = (CHOICE_KEYS as readonly string[]).includes(key)
      ? s.choices[key as (typeof CHOICE_KEYS)[number]]
      : undefined;
    if (!choice)
      throw new HubappsError(
        'unknown_option',
        `app '${app.name}' takes no option '${key.slice(0, 40)}'${offered(s)}`,
      );
    const v = options[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > choice.max) {
      throw new HubappsError(
        'option_out_of_range',
        `option '${key}' of app '${app.name}' must be a whole number from 1 to ${choice.max}`,
      );
    }
  }
  return {
    ...(s.partition ? { partition: s.partition } : {}),
    ...(s.account ? { account: s.account } : {}),
    ...(s.qos ? { qos: s.qos } : {}),
    memMb: (options.mem_mb as number | undefined) ?? s.mem_mb,
    cpus: (options.cpus as number | undefined) ?? s.cpus,
    gpus: s.gpus,
    timeMinutes: options.hours !== undefined ? (options.hours as number) * 60 : s.time_minutes,
    extraArgs: s.extra_args,
  };
}

function offered(s: SlurmApp): string {
  const keys = CHOICE_KEYS.filter((k) => s.choices[k]);
  return keys.length ? `; it offers ${keys.join(', ')}` : '';
}

/** The sbatch options for these resources (the job name, output and script come from the caller). */
export function sbatchResourceArgs(r: SlurmResources): string[] {
  const args = [`--mem=${r.memMb}M`, `--cpus-per-task=${r.cpus}`, `--time=${r.timeMinutes}`];
  if (r.partition) args.push(`--partition=${r.partition}`);
  if (r.account) args.push(`--account=${r.account}`);
  if (r.qos) args.push(`--qos=${r.qos}`);
  if (r.gpus > 0) args.push(`--gpus=${r.gpus}`);
  return [...args, ...r.extraArgs];
}

/** Does the service config (its slurm.apps list) send this app to Slurm? */
export function runsOnSlurm(
  slurmApps: readonly string[],
  app: { name: string; slurm?: SlurmApp } | undefined,
): boolean {
  if (!app) return false;
  return slurmApps.includes(app.name) || (slurmApps.includes('*') && app.slurm !== undefined);
}

/** Check a start's options: Slurm apps take the choices their file offers, other apps none. */
export function checkStartOptions(
  slurmApps: readonly string[],
  app: { name: string; slurm?: SlurmApp },
  options: Record<string, unknown>,
): void {
  if (runsOnSlurm(slurmApps, app)) {
    slurmResources(app, options);
    return;
  }
  const keys = Object.keys(options);
  if (keys.length > 0)
    throw new HubappsError(
      'unknown_option',
      `app '${app.name}' takes no option '${keys[0]!.slice(0, 40)}'`,
    );
}

/** A choice the start dialog offers (GET api/apps), with the app's default and the admin's limit. */
export interface StartOption {
  name: (typeof CHOICE_KEYS)[number];
  label: string;
  min: number;
  max: number;
  default: number;
}

export function startOptions(
  slurmApps: readonly string[],
  app: { name: string; slurm?: SlurmApp },
): StartOption[] {
  const s = app.slurm;
  if (!s || !runsOnSlurm(slurmApps, app)) return [];
  const defaults = {
    hours: Math.max(1, Math.round(s.time_minutes / 60)),
    cpus: s.cpus,
    mem_mb: s.mem_mb,
  };
  const labels = { hours: 'Hours', cpus: 'CPU cores', mem_mb: 'Memory (MB)' };
  return CHOICE_KEYS.filter((k) => s.choices[k]).map((k) => ({
    name: k,
    label: labels[k],
    min: 1,
    max: s.choices[k]!.max,
    default: Math.min(defaults[k], s.choices[k]!.max),
  }));
}
