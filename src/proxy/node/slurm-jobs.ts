/**
 * The Slurm ops of hubapps-proxy, run as the user on the hub host: submit a server as a
 * job, report its state, cancel it. The proxy reads the app (and its resource limits) from
 * its own catalog; the service only names the app and the user's choices.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { unlinkSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { sbatchResourceArgs, slurmResources } from '../../catalog/slurm.js';
import { shellQuote } from '../../shell-quote.js';
import { loadAppFile } from '../app/app-file.js';
import { shellCommand, type ProxyCommandLine } from '../command-line.js';
import { log } from '../log.js';
import {
  PROXY_EXIT,
  type SlurmJobRequest,
  type SlurmJobStatus,
  type SlurmSubmitRequest,
  type SlurmSubmitted,
} from '../../protocol/wire.js';
import { jobDir, outputFile, outputTail } from './slurm-dir.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], input?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      cmd,
      args,
      { timeout: 30_000, maxBuffer: 1 << 20 },
      (err, stdout, stderr) => {
        const code = err
          ? typeof (err as NodeJS.ErrnoException).code === 'number'
            ? Number((err as NodeJS.ErrnoException).code)
            : 127
          : 0;
        resolve({ code, stdout, stderr: stderr || (err && !stderr ? err.message : '') });
      },
    );
    child.stdin?.end(input ?? '');
  });
}

export const jobName = (server: string) => `hubapps-${server}`;

/**
 * The job's script, given to sbatch on stdin: no file, and it holds only paths. `self` is
 * this very program from the same installed files (so nodes need the same install).
 */
export function jobScript(self: ProxyCommandLine, specFile: string): string {
  return `#!/bin/sh\nexec ${shellCommand(self)} < ${shellQuote(specFile)}\n`;
}

export async function runSlurmSubmit(
  req: SlurmSubmitRequest,
  catalogDir: string,
  self: ProxyCommandLine,
): Promise<number> {
  const start = req.start;
  const app = await loadAppFile(catalogDir, start.app);
  const resources = slurmResources(app, start.options);
  const home = userInfo().homedir;
  const dir = jobDir(home);
  const specFile = `${dir}/${start.server.name}-${randomBytes(9).toString('base64url')}.json`;
  writeFileSync(specFile, `${JSON.stringify({ ...start, node: { specFile } })}\n`, {
    mode: 0o600,
    flag: 'wx',
  });
  const script = jobScript(self, specFile);
  const args = [
    '--parsable',
    `--job-name=${jobName(start.server.name)}`,
    `--output=${outputFile(dir, start.server.name)}`,
    '--no-requeue',
    `--chdir=${home}`,
    ...sbatchResourceArgs(resources),
  ];
  log(`sbatch ${args.join(' ')}`);
  const r = await run('sbatch', args, script);
  const jobId = /^(\d+)/.exec(r.stdout.trim())?.[1];
  if (r.code !== 0 || !jobId) {
    unlinkSync(specFile);
    log(`sbatch refused the job: ${r.stderr.trim() || `exit code ${r.code}`}`);
    return PROXY_EXIT.jobRejected;
  }
  const answer: SlurmSubmitted = {
    jobId,
    output: outputFile(dir, start.server.name, jobId),
    memMb: resources.memMb,
    timeMinutes: resources.timeMinutes,
  };
  process.stdout.write(`${JSON.stringify(answer)}\n`);
  return PROXY_EXIT.ok;
}

/** Slurm's view of the job, but only of a job that runs this server (its name says so): a service cannot ask about other jobs. */
async function jobStatus(req: SlurmJobRequest): Promise<SlurmJobStatus> {
  const out = outputTail(outputFile(jobDir(userInfo().homedir), req.server.name, req.jobId));
  const gone: SlurmJobStatus = {
    jobId: req.jobId,
    state: 'UNKNOWN',
    reason: 'None',
    node: '',
    timeLeft: '',
    exitCode: '',
    output: out,
  };
  const q = await run('squeue', ['-h', '-j', req.jobId, '-o', '%T|%r|%N|%L|%j']);
  const line = q.code === 0 ? q.stdout.trim().split('\n')[0] : undefined;
  if (line) {
    const [state = 'UNKNOWN', reason = 'None', node = '', timeLeft = '', name = ''] =
      line.split('|');
    if (name !== jobName(req.server.name)) return gone;
    return { ...gone, state, reason, node, timeLeft };
  }
  // squeue shows only queued and running jobs; scontrol remembers ended ones for MinJobAge.
  const s = await run('scontrol', ['-o', 'show', 'job', req.jobId]);
  const field = (k: string) => new RegExp(`(?:^| )${k}=(\\S*)`).exec(s.stdout)?.[1] ?? '';
  if (s.code !== 0 || field('JobName') !== jobName(req.server.name)) return gone;
  return {
    ...gone,
    state: field('JobState'),
    reason: field('Reason'),
    node: field('NodeList'),
    exitCode: field('ExitCode'),
  };
}

export async function runSlurmJob(req: SlurmJobRequest): Promise<number> {
  let status = await jobStatus(req);
  if (req.op === 'slurm-cancel' && status.state !== 'UNKNOWN') {
    const r = await run('scancel', [req.jobId]);
    if (r.code !== 0) log(`scancel ${req.jobId}: ${r.stderr.trim()}`);
    status = await jobStatus(req);
  }
  process.stdout.write(`${JSON.stringify(status)}\n`);
  return PROXY_EXIT.ok;
}
