/**
 * ~/.hubapps/slurm: where the proxy, as the user, keeps a job's start request (0600, read
 * and deleted by the job's proxy) and the job's output. Private to the user: the request
 * holds the server's secret, and nothing of it may reach argv, job names or a file others
 * can read.
 */
import { chmodSync, lstatSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HubappsError } from '../../errors.js';

export function jobDir(home: string): string {
  const dir = join(home, '.hubapps', 'slurm');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const d of [join(home, '.hubapps'), dir]) {
    const st = lstatSync(d);
    if (!st.isDirectory() || st.uid !== process.getuid!()) {
      throw new HubappsError(
        'job_dir_unsafe',
        `${d} must be a directory of your own (not a link): remove it and start again`,
      );
    }
    chmodSync(d, 0o700);
  }
  return dir;
}

/** The job's output file as sbatch names it (%j: the job id). */
export function outputFile(dir: string, server: string, jobId = '%j'): string {
  return join(dir, `${server}-${jobId}.log`);
}

/** Is `file` a start request this directory holds (the only files a node proxy deletes)? */
export function isJobSpec(home: string, file: string): boolean {
  return (
    file.startsWith(`${join(home, '.hubapps', 'slurm')}/`) &&
    !file.slice(join(home, '.hubapps', 'slurm').length + 1).includes('/')
  );
}

/** The last `n` lines of the job's output (at most 16 KB read), [] when there is none yet. */
export function outputTail(file: string, n = 20): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .slice(-16 * 1024)
    .split('\n')
    .filter(Boolean)
    .slice(-n);
}
