import assert from 'node:assert/strict';
import {
  checkStartOptions,
  sbatchResourceArgs,
  slurmAppSchema,
  slurmResources,
  startOptions,
} from '../../../src/catalog/slurm.js';
import { HubappsError } from '../../../src/errors.js';

const app = {
  name: 'rstudio',
  slurm: slurmAppSchema.parse({
    partition: 'interactive',
    mem_mb: 2048,
    cpus: 1,
    time_minutes: 120,
    extra_args: ['--constraint=avx2'],
    choices: { hours: { max: 8 }, cpus: { max: 4 } },
  }),
};
const refused = (fn: () => unknown, code: string, re: RegExp) =>
  assert.throws(
    fn,
    (err: unknown) =>
      err instanceof HubappsError &&
      err.code === code &&
      err.status === 400 &&
      re.test(err.message),
  );

describe('Slurm resources of a catalog app', () => {
  it("uses the app file's defaults when the user chooses nothing", () => {
    assert.deepEqual(slurmResources(app, {}), {
      partition: 'interactive',
      memMb: 2048,
      cpus: 1,
      gpus: 0,
      timeMinutes: 120,
      extraArgs: ['--constraint=avx2'],
    });
  });

  it("applies the user's choices within the admin's limits", () => {
    const r = slurmResources(app, { hours: 8, cpus: 4 });
    assert.deepEqual([r.timeMinutes, r.cpus, r.memMb], [480, 4, 2048]);
  });

  it('refuses a choice beyond its limit, below 1 or not a whole number, saying the allowed range', () => {
    refused(() => slurmResources(app, { hours: 9 }), 'option_out_of_range', /'hours'.*from 1 to 8/);
    refused(() => slurmResources(app, { cpus: 0 }), 'option_out_of_range', /from 1 to 4/);
    refused(() => slurmResources(app, { cpus: 1.5 }), 'option_out_of_range', /whole number/);
    refused(() => slurmResources(app, { cpus: '2' }), 'option_out_of_range', /whole number/);
  });

  it('refuses a choice the app does not offer, naming the ones it does', () => {
    refused(
      () => slurmResources(app, { mem_mb: 100 }),
      'unknown_option',
      /no option 'mem_mb'; it offers hours, cpus/,
    );
    refused(
      () => slurmResources(app, { partition: 'gpu' }),
      'unknown_option',
      /no option 'partition'/,
    );
  });

  it('accepts no options at all for an app that does not run on Slurm', () => {
    refused(() => checkStartOptions([], app, { hours: 1 }), 'unknown_option', /no option 'hours'/);
    assert.doesNotThrow(() => checkStartOptions([], app, {}));
    assert.doesNotThrow(() => checkStartOptions(['*'], app, { hours: 1 }));
  });

  it('turns resources into sbatch options, one word each', () => {
    assert.deepEqual(sbatchResourceArgs(slurmResources(app, { cpus: 2 })), [
      '--mem=2048M',
      '--cpus-per-task=2',
      '--time=120',
      '--partition=interactive',
      '--constraint=avx2',
    ]);
  });

  it('refuses partition names and extra arguments that could smuggle another option or a shell word', () => {
    assert.equal(slurmAppSchema.safeParse({ partition: 'a --uid=0' }).success, false);
    assert.equal(
      slurmAppSchema.safeParse({ extra_args: ['--begin=now; rm -rf ~'] }).success,
      false,
    );
    assert.equal(slurmAppSchema.safeParse({ extra_args: ['-x'] }).success, false);
  });

  it('offers the start dialog only the choices an app listed in slurm.apps has, defaults within their limits', () => {
    assert.deepEqual(startOptions([], app), []);
    assert.deepEqual(startOptions(['rstudio'], app), [
      { name: 'hours', type: 'number', label: 'Hours', min: 1, max: 8, step: 1, default: 2 },
      { name: 'cpus', type: 'number', label: 'CPU cores', min: 1, max: 4, step: 1, default: 1 },
    ]);
  });
});

describe('Slurm choices of partition, account and GPUs', () => {
  const gpuApp = {
    name: 'train',
    slurm: slurmAppSchema.parse({
      partition: 'short',
      choices: {
        partition: { options: ['short', 'gpu'] },
        account: { options: ['proj-a', 'proj-b'] },
        gpus: { max: 2 },
      },
    }),
  };

  it('offers them as a select of the allowed names and a number from 0 to the GPU limit', () => {
    assert.deepEqual(startOptions(['train'], gpuApp), [
      {
        name: 'partition',
        type: 'select',
        label: 'Partition',
        options: [
          { value: 'short', label: 'short' },
          { value: 'gpu', label: 'gpu' },
        ],
        default: 'short',
      },
      {
        name: 'account',
        type: 'select',
        label: 'Account',
        options: [
          { value: 'proj-a', label: 'proj-a' },
          { value: 'proj-b', label: 'proj-b' },
        ],
        default: 'proj-a',
      },
      { name: 'gpus', type: 'number', label: 'GPUs', min: 0, max: 2, step: 1, default: 0 },
    ]);
  });

  it('passes the chosen partition, account and GPUs to sbatch, each as one option', () => {
    const args = sbatchResourceArgs(
      slurmResources(gpuApp, { partition: 'gpu', account: 'proj-b', gpus: 2 }),
    );
    assert.ok(args.includes('--partition=gpu'));
    assert.ok(args.includes('--account=proj-b'));
    assert.ok(args.includes('--gpus=2'));
    assert.deepEqual(
      sbatchResourceArgs(slurmResources(gpuApp, {})).filter((a) => /partition|gpus/.test(a)),
      ['--partition=short'],
    );
  });

  it('refuses a partition or account outside the list, and GPUs beyond the limit, naming what is allowed', () => {
    refused(
      () => slurmResources(gpuApp, { partition: 'gpu --uid=0' }),
      'option_out_of_range',
      /'partition'.*one of short, gpu/,
    );
    refused(
      () => slurmResources(gpuApp, { account: 'other' }),
      'option_out_of_range',
      /'account'.*one of proj-a, proj-b/,
    );
    refused(() => slurmResources(gpuApp, { gpus: 3 }), 'option_out_of_range', /from 0 to 2/);
    refused(() => slurmResources(gpuApp, { gpus: -1 }), 'option_out_of_range', /from 0 to 2/);
    refused(() => slurmResources(gpuApp, { partition: 1 }), 'option_out_of_range', /one of/);
  });

  it('refuses names in the allowed list that sbatch could misread', () => {
    const r = slurmAppSchema.safeParse({ choices: { partition: { options: ['ok', '--uid=0'] } } });
    assert.equal(r.success, false);
  });
});
