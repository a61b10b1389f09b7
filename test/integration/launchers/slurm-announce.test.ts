import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { HubappsError } from '../../../src/errors.js';
import type { SlurmJobStatus } from '../../../src/protocol/wire.js';
import type { Announcement, Launch } from '../../../src/launchers/launcher.js';
import { SlurmLauncher } from '../../../src/launchers/slurm-launcher.js';

/** A Slurm launcher whose "proxy" answers every status question with `status` (what squeue would say). */
function launcherSeeing(status: Partial<SlurmJobStatus>): SlurmLauncher {
  const answer = JSON.stringify({
    jobId: '12',
    state: 'RUNNING',
    reason: 'None',
    node: '',
    timeLeft: '9:00',
    exitCode: '',
    output: [],
    ...status,
  });
  return new SlurmLauncher({
    command: () => ({
      file: process.execPath,
      args: [
        '-e',
        `process.stdin.resume(); process.stdin.on('end', () => console.log(${JSON.stringify(answer)}))`,
      ],
    }),
    via: 'local',
    uidOf: async () => process.getuid!(),
    pendingTimeoutS: 60,
    statusCacheMs: 0,
    allowedGroup: 'hubapps-users',
  });
}

const ref = { serverId: 3, user: 'alice', port: 0, secret: 's'.repeat(43), kind: 'slurm' as const };
const saved = JSON.stringify({
  jobId: '12',
  host: null,
  nodePort: null,
  submittedAt: Date.now(),
  server: 'lab',
});

/** A Slurm launch takes announcements: its announce is there. */
function announce(l: Launch, where: Announcement): Promise<void> {
  assert.ok(l.announce, 'a Slurm launch has announce');
  return l.announce(where);
}

async function refusal(p: Promise<void>): Promise<HubappsError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof HubappsError, `expected a refusal, got ${String(err)}`);
  return err;
}

describe("launchers: a Slurm job proxy's announcement", () => {
  it('is refused (403) when Slurm, asked as the user, does not run the job on the announcing node, and nothing is recorded', async () => {
    const launcher = launcherSeeing({ node: 'node7' });
    const launch = launcher.restore(ref, saved);
    const err = await refusal(announce(launch, { host: 'node8', port: 41000, runId: '12' }));
    assert.equal(err.status, 403);
    assert.match(err.message, /RUNNING on node7, not running on node8/);
    assert.equal(launch.routeTarget(), null);
  });

  it('is refused (403) while the job is not running, and for another job id', async () => {
    const pending = launcherSeeing({ state: 'PENDING', node: '' });
    assert.equal(
      (
        await refusal(
          announce(pending.restore(ref, saved), { host: 'node8', port: 41000, runId: '12' }),
        )
      ).status,
      403,
    );
    const running = launcherSeeing({ node: 'node8' });
    assert.equal(
      (
        await refusal(
          announce(running.restore(ref, saved), { host: 'node8', port: 41000, runId: '13' }),
        )
      ).status,
      403,
    );
  });

  it('is refused (502) when the job runs there but nothing at the address proves the secret', async () => {
    const launcher = launcherSeeing({ node: hostname() });
    const launch = launcher.restore(ref, saved);
    const err = await refusal(announce(launch, { host: hostname(), port: 1, runId: '12' }));
    assert.equal(err.status, 502);
    assert.equal(launch.routeTarget(), null);
  });
});
