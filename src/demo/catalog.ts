import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
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
    if (!fs.existsSync(dir)) throw new HubappsError('demo_apps', 400, `--apps ${dir}: no such directory`);
    for (const f of fs.readdirSync(dir)) {
      if (/\.(ya?ml|svg|png)$/.test(f)) fs.copyFileSync(path.join(dir, f), path.join(target, f));
    }
  }
  return target;
}
