/**
 * What users may choose for a Slurm job, within the admin's limits: whole numbers up to a
 * maximum (hours, cores, memory, GPUs) and one of a list of names (partition, account).
 * The start dialog shows them as fields of the launch form; the service checks them, and
 * the proxy checks them again with its own copy of the catalog before it calls sbatch.
 */
import { z } from 'zod';
import { HubappsError } from '../errors.js';
import type { NumberOption } from '../limits/resources.js';

/** Partition, account and QOS names as sbatch takes them; nothing a shell or an option parser could misread. */
export const SLURM_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;

const limit = (what: string) =>
  z.strictObject({ max: z.number().int().min(1).describe(`Most ${what} a user may ask for.`) });
const names = (what: string) =>
  z.strictObject({
    options: z
      .array(z.string().regex(SLURM_NAME, `must be a Slurm ${what} name`))
      .min(1)
      .describe(`The ${what}s a user may pick from, in the order shown.`),
  });

export const slurmChoicesSchema = z
  .strictObject({
    hours: limit('hours of wall time')
      .optional()
      .describe('Offer the option `hours` (replaces time_minutes).'),
    cpus: limit('cores').optional().describe('Offer the option `cpus` (replaces cpus).'),
    mem_mb: limit('MB of memory')
      .optional()
      .describe('Offer the option `mem_mb` (replaces mem_mb).'),
    gpus: limit('GPUs')
      .optional()
      .describe('Offer the option `gpus`, from 0 to max (replaces gpus).'),
    partition: names('partition')
      .optional()
      .describe('Offer the option `partition`: one of these (replaces partition).'),
    account: names('account')
      .optional()
      .describe('Offer the option `account`: one of these (replaces account).'),
  })
  .prefault({})
  .describe(
    'What users may choose when they start the app, within these limits (the start dialog offers them as form fields; the service and the proxy check them).',
  );

export type SlurmChoices = z.output<typeof slurmChoicesSchema>;

export const CHOICE_KEYS = ['partition', 'account', 'hours', 'cpus', 'mem_mb', 'gpus'] as const;
export type ChoiceKey = (typeof CHOICE_KEYS)[number];

const LABELS: Record<ChoiceKey, string> = {
  partition: 'Partition',
  account: 'Account',
  hours: 'Hours',
  cpus: 'CPU cores',
  mem_mb: 'Memory (MB)',
  gpus: 'GPUs',
};

/** A choice as the start dialog shows it (GET api/apps `options`): a number field or a select field. */
export type StartOption =
  | NumberOption<ChoiceKey>
  | {
      name: ChoiceKey;
      type: 'select';
      label: string;
      options: { value: string; label: string }[];
      default: string;
    };

/** The app's values when the user chooses nothing, as the choices count them. */
export interface ChoiceDefaults {
  partition?: string;
  account?: string;
  hours: number;
  cpus: number;
  mem_mb: number;
  gpus: number;
}

export function offeredChoices(choices: SlurmChoices, defaults: ChoiceDefaults): StartOption[] {
  return CHOICE_KEYS.flatMap((k): StartOption[] => {
    if (k === 'partition' || k === 'account') {
      const c = choices[k];
      if (!c) return [];
      const d = defaults[k];
      return [
        {
          name: k,
          type: 'select',
          label: LABELS[k],
          options: c.options.map((o) => ({ value: o, label: o })),
          default: d !== undefined && c.options.includes(d) ? d : (c.options[0] ?? ''),
        },
      ];
    }
    const c = choices[k];
    if (!c) return [];
    const min = k === 'gpus' ? 0 : 1;
    return [
      {
        name: k,
        type: 'number',
        label: LABELS[k],
        min,
        max: c.max,
        step: 1,
        default: Math.min(defaults[k], c.max),
      },
    ];
  });
}

/** Check each chosen value; throws unknown_option or option_out_of_range naming the option and the limits. */
export function checkChoices(
  app: string,
  choices: SlurmChoices,
  options: Record<string, unknown>,
): void {
  for (const [key, v] of Object.entries(options)) {
    const offered = (CHOICE_KEYS as readonly string[]).includes(key)
      ? choices[key as ChoiceKey]
      : undefined;
    if (!offered) {
      const keys = CHOICE_KEYS.filter((k) => choices[k]);
      throw new HubappsError(
        'unknown_option',
        `app '${app}' takes no option '${key.slice(0, 40)}'${keys.length ? `; it offers ${keys.join(', ')}` : ''}`,
      );
    }
    if ('options' in offered) {
      if (typeof v !== 'string' || !offered.options.includes(v))
        throw new HubappsError(
          'option_out_of_range',
          `option '${key}' of app '${app}' must be one of ${offered.options.join(', ')}`,
        );
      continue;
    }
    const min = key === 'gpus' ? 0 : 1;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > offered.max)
      throw new HubappsError(
        'option_out_of_range',
        `option '${key}' of app '${app}' must be a whole number from ${min} to ${offered.max}`,
      );
  }
}
