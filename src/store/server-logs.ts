import fs from 'node:fs';
import path from 'node:path';

/**
 * One log file per (user, server). Names are validated before they get here, so this is a
 * safe file name, and '@' appears in neither a user nor a server name, so two pairs never
 * share a file (with '--', alice--x + y and alice + x--y would).
 */
export function logFileFor(logDir: string, user: string, server: string): string {
  return path.join(logDir, `${user}@${server}.log`);
}

const ATTEMPT = ' hubapps: start of ';

/** The line the service writes into a server's log before each start, so a log that spans several attempts can be split. */
export function attemptLine(user: string, server: string, app: string, at = new Date()): string {
  return `${at.toISOString()}${ATTEMPT}${user}/${server} (app ${app})\n`;
}

/** Index in `lines` where the newest attempt begins (its marker line); 0 when the marker is older than the lines shown. */
export function currentAttemptStart(lines: string[]): number {
  for (let i = lines.length - 1; i >= 0; i--) if (lines[i]!.includes(ATTEMPT)) return i;
  return 0;
}

/** The last `lines` lines of a log, reading at most `maxBytes` from its end. */
export function tailLog(file: string | null, lines = 100, maxBytes = 256 * 1024): string[] {
  if (!file) return [];
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return [];
  }
  try {
    const size = fs.fstatSync(fd).size;
    const len = Math.min(size, maxBytes);
    const buf = Buffer.alloc(len);
    fs.readSync(fd, buf, 0, len, size - len);
    const all = buf.toString('utf8').split('\n');
    if (all.at(-1) === '') all.pop();
    if (len < size) all.shift();
    return all.slice(-lines);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Keep a log under `maxBytes` by cutting it back to its newest half. Writers hold it with
 * O_APPEND, so their next write lands at the new end; lines written during the cut may
 * be lost, which is the price of not needing a rotation daemon per server.
 */
export function capLog(file: string, maxBytes: number): boolean {
  let size: number;
  try {
    size = fs.statSync(file).size;
  } catch {
    return false;
  }
  if (size <= maxBytes) return false;
  const keep = Math.floor(maxBytes / 2);
  const fd = fs.openSync(file, 'r+');
  try {
    const buf = Buffer.alloc(keep);
    fs.readSync(fd, buf, 0, keep, size - keep);
    const nl = buf.indexOf(10);
    const rest = nl >= 0 ? buf.subarray(nl + 1) : buf;
    const marker = Buffer.from(
      `[hubapps: log cut to its newest ${rest.length} bytes at ${new Date().toISOString()}]\n`,
    );
    fs.ftruncateSync(fd, 0);
    fs.writeSync(fd, marker, 0, marker.length, 0);
    fs.writeSync(fd, rest, 0, rest.length, marker.length);
  } finally {
    fs.closeSync(fd);
  }
  return true;
}

/** The log of a server that was removed goes with it; one already gone is no error. */
export function removeLogFile(file: string | null): void {
  if (file) fs.rmSync(file, { force: true });
}
