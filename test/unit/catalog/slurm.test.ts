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
      { name: 'hours', label: 'Hours', min: 1, max: 8, default: 2 },
      { name: 'cpus', label: 'CPU cores', min: 1, max: 4, default: 1 },
    ]);
  });
});
