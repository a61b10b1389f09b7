import { z } from 'zod';
import { HubappsError } from '../errors.js';
import {
  SLURM_NAME,
  checkChoices,
  offeredChoices,
  slurmChoicesSchema,
  type StartOption,
} from './slurm-choices.js';

export type { StartOption } from './slurm-choices.js';

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
  choices: slurmChoicesSchema,
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
  checkChoices(app.name, s.choices, options);
  return {
    ...pick('partition', options.partition, s.partition),
    ...pick('account', options.account, s.account),
    ...(s.qos ? { qos: s.qos } : {}),
    memMb: (options.mem_mb as number | undefined) ?? s.mem_mb,
    cpus: (options.cpus as number | undefined) ?? s.cpus,
    gpus: (options.gpus as number | undefined) ?? s.gpus,
    timeMinutes: options.hours !== undefined ? (options.hours as number) * 60 : s.time_minutes,
    extraArgs: s.extra_args,
  };
}

/** A name the user chose, else the app's own; absent when neither is set (the cluster's default). */
function pick<K extends 'partition' | 'account'>(
  key: K,
  chosen: unknown,
  own: string | undefined,
): Partial<Record<K, string>> {
  const value = typeof chosen === 'string' ? chosen : own;
  return (value ? { [key]: value } : {}) as Partial<Record<K, string>>;
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

/** The choices the start dialog offers (GET api/apps), with the app's defaults and the admin's limits. */
export function startOptions(
  slurmApps: readonly string[],
  app: { name: string; slurm?: SlurmApp },
): StartOption[] {
  const s = app.slurm;
  if (!s || !runsOnSlurm(slurmApps, app)) return [];
  return offeredChoices(s.choices, {
    ...(s.partition ? { partition: s.partition } : {}),
    ...(s.account ? { account: s.account } : {}),
    hours: Math.max(1, Math.round(s.time_minutes / 60)),
    cpus: s.cpus,
    mem_mb: s.mem_mb,
    gpus: s.gpus,
  });
}
