/**
 * The single-node Slurm cluster the Slurm system tests run against: scripts/slurm/start.sh
 * (idempotent; .ci/run starts it too), and what root sees of the test users' jobs.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { requirePrerequisite } from '../helpers/index.js';
import { TEST_USERS, repoRoot, run, runOk } from './harness.js';

export function requireSlurm(ctx: Mocha.Context): void {
  requirePrerequisite(
    ctx,
    existsSync('/usr/bin/sbatch') && existsSync('/usr/sbin/slurmctld'),
    'needs slurm-wlm and munge (apt-get install slurm-wlm munge)',
  );
}

/** Start the cluster unless it runs; resolves to the enforcement mode, task/cgroup or task/none. */
export async function ensureCluster(): Promise<string> {
  await runOk(join(repoRoot(), 'scripts', 'slurm', 'start.sh'), []);
  const config = await runOk('scontrol', ['show', 'config']);
  return /^TaskPlugin\s*=\s*(\S+)/m.exec(config.stdout)?.[1] ?? 'unknown';
}

export interface JobView {
  id: string;
  state: string;
  reason: string;
  user: string;
  name: string;
  node: string;
}

/** What squeue shows root of the test users' jobs (all states squeue still lists). */
export async function jobsOf(user: string): Promise<JobView[]> {
  const r = await runOk('squeue', ['-h', '-u', user, '-t', 'all', '-o', '%i|%T|%r|%u|%j|%N']);
  return r.stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [id = '', state = '', reason = '', u = '', name = '', node = ''] = l.split('|');
      return { id, state, reason, user: u, name, node };
    });
}

/** A job's state as scontrol remembers it (also after it ended), or null once Slurm forgot it. */
export async function jobState(id: string): Promise<string | null> {
  const r = await run('scontrol', ['-o', 'show', 'job', id]);
  return r.code === 0 ? (/JobState=(\S+)/.exec(r.stdout)?.[1] ?? null) : null;
}

/** Cancel whatever the test users still have queued or running (before their accounts go). */
export async function cancelTestJobs(): Promise<void> {
  for (const user of Object.values(TEST_USERS)) await run('scancel', ['-u', user]);
}
