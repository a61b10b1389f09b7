/**
 * The app's output, written to the per-server log with a byte budget enforced as it is
 * written: once the file holds `maxBytes`, further output is dropped (one line says so)
 * until the service's reconcile pass cuts the file back, then a line says how much was
 * lost and writing resumes. So an app stuck in a `yes` loop fills at most its budget, not
 * the disk, between two passes. The file's size is read with fstat (the service may have
 * cut it meanwhile), at most once a second while well under the budget.
 */
import { fstatSync, writeSync } from 'node:fs';

const RECHECK_MS = 1000;

export class LogBudget {
  private size: number;
  private checkedAt: number;
  private dropped = 0;
  /** Only a file can be cut back by the service; into a pipe the budget is for everything ever written. */
  private readonly isFile: boolean;

  constructor(
    private readonly fd: number,
    private readonly maxBytes: number,
    private readonly now: () => number = Date.now,
  ) {
    this.isFile = isFile(fd);
    this.size = this.fileSize();
    this.checkedAt = now();
  }

  write(chunk: Buffer | string): void {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (
      this.isFile &&
      (this.size + bytes.length > this.maxBytes || this.now() - this.checkedAt > RECHECK_MS)
    ) {
      this.size = this.fileSize();
      this.checkedAt = this.now();
    }
    if (this.size + bytes.length > this.maxBytes) {
      if (this.dropped === 0)
        this.put(
          `${stamp()} hubapps-proxy: the log reached its budget of ${this.maxBytes} bytes (log_max_bytes); output is dropped until the service trims it\n`,
        );
      this.dropped += bytes.length;
      return;
    }
    if (this.dropped > 0) {
      this.put(
        `${stamp()} hubapps-proxy: ${this.dropped} bytes of output were dropped while the log was over its budget\n`,
      );
      this.dropped = 0;
    }
    this.put(bytes);
  }

  /** Bytes dropped since the log last had room. */
  get droppedBytes(): number {
    return this.dropped;
  }

  private put(data: Buffer | string): void {
    try {
      this.size += writeSync(this.fd, typeof data === 'string' ? Buffer.from(data) : data);
    } catch {
      // A closed or broken log is not the app's problem: its output is lost, the app keeps running.
    }
  }

  private fileSize(): number {
    try {
      return this.isFile ? fstatSync(this.fd).size : 0;
    } catch {
      return 0;
    }
  }
}

function isFile(fd: number): boolean {
  try {
    return fstatSync(fd).isFile();
  } catch {
    return false;
  }
}

const stamp = () => new Date().toISOString();
