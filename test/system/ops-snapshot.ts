import { createHash } from 'node:crypto';
import { lstatSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Type, mode, owner, mtime and content hash of every path below each of `roots`: two equal
 * snapshots mean nothing was touched in between (what "install changes nothing on a second
 * run" promises).
 */
export function snapshot(roots: string[]): Map<string, string> {
  const out = new Map<string, string>();
  const visit = (path: string) => {
    const s = lstatSync(path);
    const what = s.isSymbolicLink()
      ? `-> ${readlinkSync(path)}`
      : s.isFile()
        ? createHash('sha256').update(readFileSync(path)).digest('hex')
        : 'dir';
    out.set(path, `${(s.mode & 0o7777).toString(8)} ${s.uid}:${s.gid} ${s.mtimeMs} ${what}`);
    if (s.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
  };
  for (const root of roots) visit(root);
  return out;
}
