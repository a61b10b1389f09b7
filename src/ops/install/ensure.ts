import fs from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * Idempotent file-system steps for `hubapps install`: each compares what is there with what
 * should be there and changes only the difference, so a second run changes nothing (same
 * contents, modes, owners and mtimes). With `dryRun` they only report what they would change.
 */

export interface Owner {
  uid: number;
  gid: number;
}

export interface EnsureOptions {
  dryRun: boolean;
  /** Leave ownership alone when undefined (not running as root, or the owner does not exist yet). */
  owner: Owner | undefined;
}

/** An entry of a tree to lay out, keyed by its path relative to the tree's root. */
export type TreeEntry =
  | { kind: 'dir' }
  | { kind: 'file'; from: string }
  | { kind: 'content'; content: string }
  | { kind: 'link'; target: string };

export interface TreeResult {
  changed: number;
  removed: number;
}

export function ensureDir(path: string, mode: number, opts: EnsureOptions): boolean {
  const info = lstatOrUndefined(path);
  if (info && !info.isDirectory()) {
    if (!opts.dryRun) fs.rmSync(path, { recursive: true, force: true });
  }
  const exists = info?.isDirectory() === true;
  const changed = !exists || !sameMode(info, mode) || !sameOwner(info, opts.owner);
  if (!changed || opts.dryRun) return changed;
  if (!exists) fs.mkdirSync(path, { mode });
  // chown first: a chown may clear the setgid and sticky bits the mode sets.
  if (opts.owner) fs.chownSync(path, opts.owner.uid, opts.owner.gid);
  fs.chmodSync(path, mode);
  return true;
}

/** Write `content` atomically (temporary file + rename) unless the file already holds it with this mode and owner. */
export function ensureFile(
  path: string,
  content: Buffer | string,
  mode: number,
  opts: EnsureOptions,
): boolean {
  const want = typeof content === 'string' ? Buffer.from(content) : content;
  const info = lstatOrUndefined(path);
  if (
    info?.isFile() &&
    info.size === want.length &&
    sameMode(info, mode) &&
    sameOwner(info, opts.owner) &&
    fs.readFileSync(path).equals(want)
  ) {
    return false;
  }
  if (opts.dryRun) return true;
  if (info?.isDirectory()) fs.rmSync(path, { recursive: true, force: true });
  const tmp = join(dirname(path), `.${basename(path)}.hubapps-new`);
  fs.writeFileSync(tmp, want, { mode });
  fs.chmodSync(tmp, mode);
  if (opts.owner) fs.chownSync(tmp, opts.owner.uid, opts.owner.gid);
  fs.renameSync(tmp, path);
  return true;
}

/** Write the file only when it does not exist yet: for files an admin edits afterwards. */
export function ensureFileOnce(
  path: string,
  content: string,
  mode: number,
  opts: EnsureOptions,
): boolean {
  if (lstatOrUndefined(path)) return false;
  return ensureFile(path, content, mode, opts);
}

export function ensureSymlink(path: string, target: string, opts: EnsureOptions): boolean {
  const info = lstatOrUndefined(path);
  if (info?.isSymbolicLink() && fs.readlinkSync(path) === target && sameOwner(info, opts.owner))
    return false;
  if (opts.dryRun) return true;
  if (info) fs.rmSync(path, { recursive: true, force: true });
  fs.symlinkSync(target, path);
  if (opts.owner) fs.lchownSync(path, opts.owner.uid, opts.owner.gid);
  return true;
}

/**
 * Make `root` hold exactly `entries` (directories `dirMode`, files `fileMode`): write what
 * differs and remove whatever else is below `root`, so files of an older version do not
 * linger. Parents come before children because the map is sorted by path.
 */
export function ensureTree(
  root: string,
  entries: Map<string, TreeEntry>,
  dirMode: number,
  fileMode: number,
  opts: EnsureOptions,
): TreeResult {
  const result: TreeResult = { changed: 0, removed: 0 };
  if (ensureDir(root, dirMode, opts)) result.changed++;
  for (const rel of [...entries.keys()].sort()) {
    const entry = entries.get(rel)!;
    const path = join(root, rel);
    let changed: boolean;
    if (entry.kind === 'dir') changed = ensureDir(path, dirMode, opts);
    else if (entry.kind === 'file')
      changed = ensureFile(path, fs.readFileSync(entry.from), fileMode, opts);
    else if (entry.kind === 'content') changed = ensureFile(path, entry.content, fileMode, opts);
    else changed = ensureSymlink(path, entry.target, opts);
    if (changed) result.changed++;
  }
  result.removed = removeExtraneous(root, '', entries, opts.dryRun);
  return result;
}

function removeExtraneous(
  root: string,
  rel: string,
  entries: Map<string, TreeEntry>,
  dryRun: boolean,
): number {
  let names: string[];
  try {
    names = fs.readdirSync(join(root, rel));
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    const child = rel === '' ? name : `${rel}/${name}`;
    const entry = entries.get(child);
    if (!entry) {
      if (!dryRun) fs.rmSync(join(root, child), { recursive: true, force: true });
      removed++;
    } else if (entry.kind === 'dir') {
      removed += removeExtraneous(root, child, entries, dryRun);
    }
  }
  return removed;
}

/** Every directory, file and symlink below `dir` (relative paths), for building a tree; `skip` prunes. */
export function listTree(
  dir: string,
  skip: (rel: string, isDir: boolean) => boolean = () => false,
): Map<string, TreeEntry> {
  const out = new Map<string, TreeEntry>();
  const walk = (rel: string): void => {
    for (const entry of fs.readdirSync(join(dir, rel), { withFileTypes: true })) {
      const child = rel === '' ? entry.name : `${rel}/${entry.name}`;
      const from = join(dir, child);
      if (skip(child, entry.isDirectory())) continue;
      if (entry.isSymbolicLink()) out.set(child, { kind: 'link', target: fs.readlinkSync(from) });
      else if (entry.isDirectory()) {
        out.set(child, { kind: 'dir' });
        walk(child);
      } else if (entry.isFile()) out.set(child, { kind: 'file', from });
    }
  };
  walk('');
  return out;
}

export function lstatOrUndefined(path: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(path);
  } catch {
    return undefined;
  }
}

function sameMode(info: fs.Stats | undefined, mode: number): boolean {
  return info !== undefined && (info.mode & 0o7777) === mode;
}

function sameOwner(info: fs.Stats | undefined, owner: Owner | undefined): boolean {
  return (
    owner === undefined || (info !== undefined && info.uid === owner.uid && info.gid === owner.gid)
  );
}
