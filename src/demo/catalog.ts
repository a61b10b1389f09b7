import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { compileCatalog } from '../catalog/compile.js';
import { HubappsError } from '../errors.js';

/**
 * The demo's catalog: the sample apps from demo/apps.d, a Node "hello" app whose file path
 * is only known at run time, and the app files of every --apps DIR (later ones win, so an admin may replace the samples).
 */
export function buildDemoCatalog(target: string, repo: string, extraDirs: string[]): string {
  fs.mkdirSync(target, { recursive: true });
  const hello = {
    title: 'Hello',
    description: 'A tiny Node app that shows which account it runs as and what hubapps passed it.',
    command: [process.execPath, path.join(repo, 'demo', 'apps', 'hello.mjs'), '{port}'],
    ready: { path: '/', timeout: 10 },
  };
  fs.writeFileSync(path.join(target, 'hello.yaml'), stringify(hello));
  for (const dir of [path.join(repo, 'demo', 'apps.d'), ...extraDirs]) {
    if (!fs.existsSync(dir))
      throw new HubappsError('demo_apps', `--apps ${dir}: no such directory`);
    for (const f of fs.readdirSync(dir)) {
      if (/\.(ya?ml|svg|png)$/.test(f)) fs.copyFileSync(path.join(dir, f), path.join(target, f));
    }
  }
  return target;
}

/**
 * The compiled forms `hubapps check-config` writes in production, so the demo's proxies take
 * the same fast path (no YAML worker on every start). A bad file of an --apps DIR leaves the
 * catalog uncompiled: the apps then start from their YAML, and the returned line says why.
 */
export function compileDemoCatalog(dir: string): string | undefined {
  try {
    compileCatalog(dir);
    return undefined;
  } catch (err) {
    return `The catalog was not compiled, so apps start from their YAML (slower): ${(err as Error).message}`;
  }
}
