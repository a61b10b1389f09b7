import assert from 'node:assert/strict';
import type { SlurmJobStatus } from '../../../src/protocol/wire.js';
import {
  describeEnd,
  describeLive,
  jobEnded,
  jobQueued,
} from '../../../src/launchers/slurm-states.js';

const status = (state: string, more: Partial<SlurmJobStatus> = {}): SlurmJobStatus => ({
  jobId: '42',
  state,
  reason: 'None',
  node: '',
  timeLeft: '',
  exitCode: '',
  output: [],
  ...more,
});

describe('Slurm job states as the launcher shows them', () => {
  it("shows a queued job with the scheduler's reason", () => {
    assert.equal(describeLive(status('PENDING', { reason: 'Resources' })), 'queued (Resources)');
    assert.equal(describeLive(status('PENDING')), 'queued (waiting for the scheduler)');
    assert.ok(jobQueued(status('PENDING')));
  });

  it('shows a running job with its node and time left', () => {
    assert.equal(
      describeLive(status('RUNNING', { node: 'c12', timeLeft: '59:58' })),
      'starting on c12, 59:58 left',
    );
  });

  it('tells the user why a job ended: memory, time, cancel, failure, a forgotten job', () => {
    assert.match(
      describeEnd(status('OUT_OF_MEMORY'), { memMb: 200 }).reason,
      /ran out of memory \(its limit is 200 MB\).*more memory/,
    );
    assert.equal(describeEnd(status('OUT_OF_MEMORY'), {}).code, 'job_out_of_memory');
    assert.match(
      describeEnd(status('TIMEOUT'), { timeMinutes: 60 }).reason,
      /time limit of 60 min.*more hours/,
    );
    assert.equal(describeEnd(status('CANCELLED+'), {}).code, 'job_cancelled');
    assert.match(
      describeEnd(status('FAILED', { exitCode: '1:0' }), {}).reason,
      /failed \(exit code 1:0\)/,
    );
    assert.match(describeEnd(status('UNKNOWN'), {}).reason, /no longer known to Slurm/);
  });

  it('counts every final state as ended, and running or completing ones as not', () => {
    for (const s of [
      'COMPLETED',
      'CANCELLED+',
      'FAILED',
      'TIMEOUT',
      'OUT_OF_MEMORY',
      'NODE_FAIL',
      'UNKNOWN',
    ])
      assert.ok(jobEnded(status(s)), s);
    for (const s of ['PENDING', 'RUNNING', 'CONFIGURING', 'COMPLETING'])
      assert.ok(!jobEnded(status(s)), s);
  });
});
