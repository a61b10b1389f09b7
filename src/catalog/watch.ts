import { type FSWatcher, readdirSync, statSync, watch } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';
import { type Catalog, loadCatalogLenient, makeCatalog } from './load.js';

export interface WatchOptions {
  /** Quiet time after the last change before reloading (editors write files in several steps). */
  debounceMs?: number;
  /** Interval of the polling fallback. */
  pollMs?: number;
  /** Poll from the start instead of trying fs.watch. */
  poll?: boolean;
}

export type CatalogListener = (catalog: Catalog, errors: ConfigError[]) => void;

/**
 * Reload the catalog whenever something in `dir` changes and hand the result to `onChange`
 * (the good apps plus one error per bad file). Uses fs.watch; when that is unavailable or
 * the directory itself is replaced (fs.watch would then watch the old inode), it falls back
 * to comparing directory listings and mtimes every `pollMs`. Never keeps the process alive.
 */
export function watchCatalog(
  dir: string,
  onChange: CatalogListener,
  opts: WatchOptions = {},
): { close(): void } {
  const debounceMs = opts.debounceMs ?? 200;
  const pollMs = opts.pollMs ?? 5000;
  let closed = false;
  let debounce: NodeJS.Timeout | undefined;
  let watcher: FSWatcher | undefined;
  let poller: NodeJS.Timeout | undefined;
  const watchedInode = inode(dir);

  const reload = () => {
    if (closed) return;
    if (watcher && inode(dir) !== watchedInode) startPolling();
    let result: { catalog: Catalog; errors: ConfigError[] };
    try {
      result = loadCatalogLenient(dir);
    } catch (err) {
      const error =
        err instanceof ConfigError
          ? err
          : new ConfigError(dir, '', `cannot load the catalog: ${(err as Error).message}`);
      result = { catalog: makeCatalog(dir, new Map()), errors: [error] };
    }
    onChange(result.catalog, result.errors);
  };
  const schedule = () => {
    if (closed) return;
    clearTimeout(debounce);
    debounce = setTimeout(reload, debounceMs).unref();
  };
  const startPolling = () => {
    watcher?.close();
    watcher = undefined;
    if (poller) return;
    let last = snapshot(dir);
    poller = setInterval(() => {
      const now = snapshot(dir);
      if (now !== last) schedule();
      last = now;
    }, pollMs).unref();
  };

  if (opts.poll) {
    startPolling();
  } else {
    try {
      watcher = watch(dir, { persistent: false }, schedule);
      watcher.on('error', () => {
        startPolling();
        schedule();
      });
    } catch {
      startPolling();
    }
  }

  return {
    close() {
      closed = true;
      clearTimeout(debounce);
      clearInterval(poller);
      watcher?.close();
    },
  };
}

function inode(dir: string): number | undefined {
  try {
    return statSync(dir).ino;
  } catch {
    return undefined;
  }
}

/** A cheap fingerprint of the directory: entry names with their mtimes and sizes. */
function snapshot(dir: string): string {
  try {
    const dirStat = statSync(dir);
    const entries = readdirSync(dir).sort();
    const parts = entries.map((name) => {
      try {
        const s = statSync(join(dir, name));
        return `${name}:${s.mtimeMs}:${s.size}`;
      } catch {
        return `${name}:gone`;
      }
    });
    return `${dirStat.ino}|${parts.join('|')}`;
  } catch {
    return 'missing';
  }
}
