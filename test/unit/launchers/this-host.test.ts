import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { SlurmLauncher } from '../../../src/launchers/slurm-launcher.js';
import { isThisHost } from '../../../src/launchers/this-host.js';

describe('launchers: which proxy listeners the service can check for their owner', () => {
  it('counts this host under its own name, its short name and localhost as this host, and a name that does not resolve as another', async () => {
    assert.equal(await isThisHost(hostname()), true);
    assert.equal(await isThisHost(hostname().split('.')[0]!), true);
    assert.equal(await isThisHost('localhost'), true);
    assert.equal(await isThisHost('node-that-does-not-exist.invalid'), false);
  });

  it('gives a Slurm job on this host the listener-owner check, and one on another node none (its trust is the proof and squeue)', async () => {
    const launcher = new SlurmLauncher({
      command: () => ({ file: '/bin/false', args: [] }),
      via: 'local',
      uidOf: async () => 4242,
      pendingTimeoutS: 60,
      statusCacheMs: 0,
      allowedGroup: 'hubapps-users',
    });
    const ref = {
      serverId: 3,
      user: 'alice',
      port: 0,
      secret: 's'.repeat(43),
      kind: 'slurm' as const,
    };
    const at = (host: string | null) =>
      launcher.restore(
        ref,
        JSON.stringify({
          jobId: '12',
          host,
          nodePort: host ? 41000 : null,
          submittedAt: 1,
          server: 'lab',
        }),
      );
    assert.deepEqual(await at(hostname()).target(), {
      host: hostname(),
      port: 41000,
      secret: ref.secret,
      uid: 4242,
      listener: 'local',
    });
    assert.deepEqual(await at('node-that-does-not-exist.invalid').target(), {
      host: 'node-that-does-not-exist.invalid',
      port: 41000,
      secret: ref.secret,
      uid: -1,
      listener: 'remote',
    });
    assert.equal(await at(null).target(), null, 'a job not yet announced has no target');
  });
});
