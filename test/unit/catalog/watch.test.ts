import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConfigError } from '../../../src/errors.js';
import type { Catalog } from '../../../src/catalog/load.js';
import { watchCatalog } from '../../../src/catalog/watch.js';

const GOOD = 'title: T\ncommand: [app, "{port}"]\n';

interface Change {
  catalog: Catalog;
  errors: ConfigError[];
}

/** Collects onChange calls and lets a test wait for one that satisfies a condition. */
function recorder() {
  const changes: Change[] = [];
  let wake: (() => void) | undefined;
  return {
    changes,
    onChange(catalog: Catalog, errors: ConfigError[]) {
      changes.push({ catalog, errors });
      wake?.();
    },
    async until(ok: (c: Change) => boolean, ms: number): Promise<Change> {
      const deadline = Date.now() + ms;
      for (;;) {
        const hit = changes.find(ok);
        if (hit) return hit;
        const left = deadline - Date.now();
        if (left <= 0)
          assert.fail(
            `no matching catalog change within ${ms} ms (${changes.length} changes seen)`,
          );
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, left);
        });
      }
    },
  };
}

describe('watching the catalog directory', () => {
  let dir: string;
  let watcher: { close(): void } | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hubapps-t-watch-'));
    writeFileSync(join(dir, 'one.yaml'), GOOD);
  });
  afterEach(() => {
    watcher?.close();
    watcher = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('picks up a new app file within a second', async () => {
    const rec = recorder();
    watcher = watchCatalog(dir, rec.onChange);
    writeFileSync(join(dir, 'two.yaml'), GOOD);
    const change = await rec.until((c) => c.catalog.get('two') !== undefined, 1000);
    assert.deepEqual(
      change.catalog.list().map((a) => a.name),
      ['one', 'two'],
    );
    assert.deepEqual(change.errors, []);
  });

  it('reports a broken file while keeping the good apps', async () => {
    const rec = recorder();
    watcher = watchCatalog(dir, rec.onChange);
    writeFileSync(join(dir, 'bad.yaml'), 'title: Bad\n');
    const change = await rec.until((c) => c.errors.length > 0, 1000);
    assert.deepEqual(
      change.catalog.list().map((a) => a.name),
      ['one'],
    );
    assert.equal(change.errors[0]?.file, join(dir, 'bad.yaml'));
  });

  it('notices changes by polling when asked to poll', async () => {
    const rec = recorder();
    watcher = watchCatalog(dir, rec.onChange, { poll: true, pollMs: 50, debounceMs: 10 });
    writeFileSync(join(dir, 'two.yaml'), GOOD);
    await rec.until((c) => c.catalog.get('two') !== undefined, 1000);
  });

  it('coalesces a burst of writes into one reload', async () => {
    const rec = recorder();
    watcher = watchCatalog(dir, rec.onChange, { debounceMs: 150 });
    for (let i = 0; i < 5; i++) writeFileSync(join(dir, `app${i}.yaml`), GOOD);
    await rec.until((c) => c.catalog.get('app4') !== undefined, 1000);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(rec.changes.length, 1);
  });

  it('reports a removed directory, and sees the apps of a directory recreated in its place', async () => {
    const rec = recorder();
    watcher = watchCatalog(dir, rec.onChange, { pollMs: 50, debounceMs: 10 });
    rmSync(dir, { recursive: true, force: true });
    const gone = await rec.until(
      (c) => c.errors.some((e) => /catalog directory not found/.test(e.message)),
      1000,
    );
    assert.deepEqual(gone.catalog.list(), []);
    mkdirSync(dir);
    writeFileSync(join(dir, 'again.yaml'), GOOD);
    await rec.until((c) => c.catalog.get('again') !== undefined, 1000);
  });

  it('reports nothing after close()', async () => {
    const rec = recorder();
    watcher = watchCatalog(dir, rec.onChange, { debounceMs: 10 });
    watcher.close();
    writeFileSync(join(dir, 'two.yaml'), GOOD);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(rec.changes.length, 0);
  });
});
