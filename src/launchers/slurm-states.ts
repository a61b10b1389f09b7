import type { ErrorCode } from '../errors.js';
import type { SlurmJobStatus } from '../protocol/wire.js';

/** Slurm states in which the job holds no processes any more (UNKNOWN: Slurm has forgotten it). */
const ENDED = new Set([
  'COMPLETED',
  'CANCELLED',
  'FAILED',
  'TIMEOUT',
  'OUT_OF_MEMORY',
  'NODE_FAIL',
  'PREEMPTED',
  'BOOT_FAIL',
  'DEADLINE',
  'SPECIAL_EXIT',
  'UNKNOWN',
]);
/** Waiting for resources: time here is the queue's, not the app's. */
const QUEUED = new Set([
  'PENDING',
  'REQUEUED',
  'REQUEUE_HOLD',
  'REQUEUE_FED',
  'RESV_DEL_HOLD',
  'SUSPENDED',
]);

export function jobEnded(s: Pick<SlurmJobStatus, 'state'>): boolean {
  return ENDED.has(baseState(s.state));
}

export function jobQueued(s: Pick<SlurmJobStatus, 'state'>): boolean {
  return QUEUED.has(baseState(s.state));
}

/** scontrol writes e.g. "CANCELLED" or "CANCELLED+"; squeue never adds flags. */
function baseState(state: string): string {
  return state.replace(/\+$/, '').split(' ')[0]!;
}

/** What the launcher shows while the job has not ended. */
export function describeLive(s: SlurmJobStatus): string {
  if (jobQueued(s))
    return `queued (${s.reason === 'None' ? 'waiting for the scheduler' : s.reason})`;
  const left = s.timeLeft && s.timeLeft !== 'INVALID' ? `, ${s.timeLeft} left` : '';
  return `starting on ${s.node || 'a node'}${left}`;
}

/** Why an ended job ended, written for the user who started it. */
export function describeEnd(
  s: SlurmJobStatus,
  limits: { memMb?: number; timeMinutes?: number },
): { code: ErrorCode; reason: string } {
  const job = `Slurm job ${s.jobId}`;
  switch (baseState(s.state)) {
    case 'OUT_OF_MEMORY':
      return {
        code: 'job_out_of_memory',
        reason: `${job} ran out of memory${limits.memMb ? ` (its limit is ${limits.memMb} MB)` : ''} and was killed: start it with more memory`,
      };
    case 'TIMEOUT':
      return {
        code: 'job_timeout',
        reason: `${job} reached its time limit${limits.timeMinutes ? ` of ${limits.timeMinutes} min` : ''} and was ended: start it with more hours`,
      };
    case 'CANCELLED':
      return { code: 'job_cancelled', reason: `${job} was cancelled` };
    case 'COMPLETED':
      return { code: 'job_completed', reason: `${job} ended` };
    case 'FAILED':
      return {
        code: 'job_failed',
        reason: `${job} failed (exit code ${s.exitCode || 'unknown'}); see the log`,
      };
    case 'NODE_FAIL':
      return {
        code: 'job_node_failed',
        reason: `${job} ended because its node ${s.node} failed: start it again`,
      };
    case 'PREEMPTED':
      return {
        code: 'job_preempted',
        reason: `${job} was preempted by a job of higher priority: start it again`,
      };
    case 'UNKNOWN':
      return { code: 'job_gone', reason: `${job} is no longer known to Slurm` };
    default:
      return {
        code: 'job_ended',
        reason: `${job} ended (${s.state}${s.reason && s.reason !== 'None' ? `, ${s.reason}` : ''})`,
      };
  }
}
