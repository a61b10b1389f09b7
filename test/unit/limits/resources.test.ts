import assert from 'node:assert/strict';
import { HubappsError } from '../../../src/errors.js';
import {
  capProblems,
  checkUserTotals,
  formatBytes,
  hostLimitsAppSchema,
  limitOptions,
  serverLimitsConfigSchema,
  serverResources,
} from '../../../src/limits/resources.js';

const cfg = (over: Record<string, unknown> = {}) =>
  serverLimitsConfigSchema.parse({
    mem_mb: 1024,
    cpus: 1,
    pids: 256,
    max_mem_mb: 4096,
    max_cpus: 4,
    ...over,
  });
const app = (limits?: Record<string, unknown>) => ({
  name: 'lab',
  ...(limits ? { limits: hostLimitsAppSchema.parse(limits) } : {}),
});
const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return err instanceof HubappsError ? `${err.code} ${err.status}: ${err.message}` : String(err);
  }
  return 'no error';
};

describe("a server's limits on the host", () => {
  it("gives an app without a limits key the admin's defaults", () => {
    assert.deepEqual(serverResources(cfg(), app(), {}), { memMb: 1024, cpus: 1, pids: 256 });
  });

  it("takes the app's own values over the defaults, and a user's choice over both", () => {
    const a = app({
      mem_mb: 2048,
      cpus: 0.5,
      pids: 64,
      choices: { mem_mb: { max: 3000 }, cpus: { max: 2 } },
    });
    assert.deepEqual(serverResources(cfg(), a, {}), { memMb: 2048, cpus: 0.5, pids: 64 });
    assert.deepEqual(serverResources(cfg(), a, { mem_mb: 3000, cpus: 1.5 }), {
      memMb: 3000,
      cpus: 1.5,
      pids: 64,
    });
  });

  it('refuses an option the app does not offer (400 unknown_option, naming what it offers)', () => {
    assert.match(
      code(() => serverResources(cfg(), app({ choices: { cpus: { max: 2 } } }), { mem_mb: 100 })),
      /^unknown_option 400: .*takes no option 'mem_mb'; it offers cpus$/,
    );
    assert.match(
      code(() => serverResources(cfg(), app(), { hours: 1 })),
      /^unknown_option 400/,
    );
  });

  it("refuses a choice above the app's offer or the admin's cap, whichever is lower, and a non-number (400 option_out_of_range)", () => {
    const a = app({ choices: { mem_mb: { max: 8000 }, cpus: { max: 2 } } });
    assert.match(
      code(() => serverResources(cfg(), a, { mem_mb: 4097 })),
      /^option_out_of_range 400: option 'mem_mb' .* from 1 to 4096$/,
    );
    assert.match(
      code(() => serverResources(cfg(), a, { cpus: 3 })),
      /from 1 to 2$/,
    );
    assert.match(
      code(() => serverResources(cfg(), a, { mem_mb: 100.5 })),
      /a whole number/,
    );
    assert.match(
      code(() => serverResources(cfg(), a, { cpus: '1' })),
      /^option_out_of_range/,
    );
    assert.match(
      code(() => serverResources(cfg(), a, { cpus: 0 })),
      /^option_out_of_range/,
    );
  });

  it("refuses an app file that asks for more than the admin's caps, naming the key to lower", () => {
    assert.match(
      code(() => serverResources(cfg(), app({ mem_mb: 5000 }), {})),
      /^limit_above_cap 500: app 'lab' .*mem_mb 5000 > max_mem_mb 4096/,
    );
    assert.match(
      code(() => serverResources(cfg({ max_pids: 100 }), app({ pids: 200 }), {})),
      /pids 200 > max_pids 100/,
    );
  });

  it('names for check-config the app files whose limits exceed the caps, unless cgroups are off', () => {
    const apps = [
      { ...app({ mem_mb: 5000 }), file: '/etc/hubapps/apps.d/lab.yaml' },
      { ...app(), name: 'ok', file: 'ok.yaml' },
    ];
    assert.deepEqual(capProblems(cfg(), apps), [
      "/etc/hubapps/apps.d/lab.yaml: key 'limits': app 'lab' asks for more than the admin allows one server (mem_mb 5000 > max_mem_mb 4096 in server_limits); lower its limits key",
    ]);
    assert.deepEqual(capProblems(cfg({ cgroups: 'off' }), apps), []);
  });

  it("refuses a start beyond the user's memory or CPU total with 429 limit_reached, saying what is held and what was asked", () => {
    const held = [
      { memMb: 1024, cpus: 1, pids: 256 },
      { memMb: 512, cpus: 2, pids: 256 },
    ];
    const wanted = { memMb: 600, cpus: 1, pids: 256 };
    assert.equal(
      code(() => checkUserTotals(cfg({ user_mem_mb: 2136 }), 'ann', wanted, held)),
      'no error',
    );
    assert.match(
      code(() => checkUserTotals(cfg({ user_mem_mb: 2135 }), 'ann', wanted, held)),
      /^limit_reached 429: ann's active servers hold 1536 MB of memory; this start asks for 600 MB more, beyond the 2135 MB/,
    );
    assert.match(
      code(() => checkUserTotals(cfg({ user_cpus: 3.5 }), 'ann', wanted, held)),
      /^limit_reached 429: ann's active servers hold 3 CPU cores/,
    );
    assert.equal(
      code(() => checkUserTotals(cfg(), 'ann', { memMb: 1e6, cpus: 1e3, pids: 1 }, held)),
      'no error',
      '0: no total',
    );
  });

  it('offers the start dialog the choices within the caps, with the defaults, and none when cgroups are off', () => {
    const a = app({ mem_mb: 2048, choices: { mem_mb: { max: 9000 } } });
    assert.deepEqual(limitOptions(cfg(), a), [
      {
        name: 'mem_mb',
        type: 'number',
        label: 'Memory (MB)',
        min: 1,
        max: 4096,
        step: 1,
        default: 2048,
      },
    ]);
    assert.deepEqual(limitOptions(cfg({ cgroups: 'off' }), a), []);
    assert.deepEqual(limitOptions(cfg(), app()), []);
  });

  it('shows a memory limit as the launcher prints it', () => {
    assert.equal(formatBytes(64 * 1024 * 1024), '64 MiB');
    assert.equal(formatBytes(2 * 1024 ** 3), '2 GiB');
    assert.equal(formatBytes(1.5 * 1024 ** 3), '1.5 GiB');
  });
});
