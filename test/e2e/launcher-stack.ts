/**
 * The launcher's end-to-end set-up: a real CHP and the service in local mode (test/helpers/
 * stack.ts), with the service route in CHP so a browser reaches launcher, API and servers
 * through CHP's public URL, as it would behind JupyterHub's proxy. Users log in with login
 * links minted through the API by the stack's admin token.
 */
import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import type { ConfigInput } from '../../src/config/schema.js';
import { waitFor } from '../helpers/wait.js';
import { startLocalStack, type LocalStack } from '../helpers/stack.js';

/** A tiny web app: its page says which path it got; it logs when it listens and every request. */
const WEB_APP = (delayMs: number) => `
const http = require('http');
const port = Number(process.argv[1]);
const esc = (s) => s.replace(/[<>&"]/g, (c) => '&#' + c.charCodeAt(0) + ';');
const server = http.createServer((req, res) => {
  console.log('request ' + req.url);
  res.setHeader('content-type', 'text/html; charset=utf-8');
  res.end('<!doctype html><title>e2e app</title><h1 id="app">e2e app</h1><p id="path">' + esc(req.url) + '</p>');
});
const warm = setInterval(() => console.log('warming up...'), 400);
setTimeout(() => { clearInterval(warm); server.listen(port, '127.0.0.1', () => console.log('e2e app listening on ' + port)); }, ${delayMs});
`;

/** Catalog commands expand {placeholders}: double the braces of literal code. */
const literal = (code: string) => code.replace(/[{}]/g, (c) => c + c);

export const APPS = {
  hello: {
    title: 'Hello',
    description: 'A small web app that answers at once.',
    command: [process.execPath, '-e', literal(WEB_APP(0)), '{port}'],
    ready: { timeout: 20 },
  },
  slow: {
    title: 'Slow starter',
    description: 'Takes a few seconds before it answers.',
    command: [process.execPath, '-e', literal(WEB_APP(3000)), '{port}'],
    ready: { timeout: 30 },
  },
  broken: {
    title: 'Broken',
    description: 'Exits at once with an error.',
    category: 'Troubleshooting',
    command: [
      process.execPath,
      '-e',
      "console.error('broken: cannot read /etc/broken/settings.toml'); process.exit(3)",
      '{port}',
    ],
    ready: { timeout: 20 },
  },
  /** Startable by a link to its visit page only: no card. */
  backstage: {
    title: 'Backstage',
    command: [process.execPath, '-e', literal(WEB_APP(0)), '{port}'],
    hidden: true,
  },
};

const ICON =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 48 48"><rect width="48" height="48" rx="10" fill="#0b7a4b"/><path d="M14 14h6v8h8v-8h6v20h-6v-7h-8v7h-6z" fill="#fff"/></svg>';

export interface LauncherStack extends LocalStack {
  /** Public URL of the launcher through CHP, e.g. http://127.0.0.1:PORT/services/hubapps/ */
  launcher: string;
  /** A single-use login link for `user`, going to `next` (default: the launcher). */
  loginLink(user: string, next?: string): Promise<string>;
  /** State of a user's server as the API reports it ('none' when there is no such server). */
  state(user: string, name: string): Promise<string>;
}

/** `apps`: more catalog apps beside APPS (e.g. one that runs as a Slurm job). */
export async function startLauncherStack(
  config: Partial<ConfigInput> = {},
  apps: Record<string, object> = {},
): Promise<LauncherStack> {
  const base = await startLocalStack({
    apps: { ...APPS, ...apps },
    config: { admin_users: ['ada'], ...config },
  });
  const urls = base.service.urls;
  await base.service.deps.routes.add(urls.serviceRoute(), urls.serviceOrigin, {
    hubapps: true,
    kind: 'service',
  });
  await addIcon(base, 'hello');
  return Object.assign(base, {
    launcher: `${base.chp.proxyUrl}${urls.servicePrefix()}`,
    async loginLink(user: string, next?: string) {
      const r = await base.api('POST', `/users/${user}/login-links`, next ? { next } : {});
      if (r.status !== 201)
        throw new Error(`minting a login link for ${user}: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body.url as string;
    },
    async state(user: string, name: string) {
      const r = await base.api('GET', `/users/${user}/servers/${name}`);
      return r.status === 404 ? 'none' : (r.body.state as string);
    },
  });
}

/** Give an app an icon: the catalog is hot-reloaded, so wait until the API lists it. */
async function addIcon(stack: LocalStack, app: keyof typeof APPS): Promise<void> {
  fs.writeFileSync(path.join(stack.catalogDir, `${app}.svg`), ICON);
  fs.writeFileSync(
    path.join(stack.catalogDir, `${app}.yaml`),
    stringify({ ...APPS[app], icon: `${app}.svg` }),
  );
  await waitFor(
    async () =>
      (await stack.api('GET', '/apps')).body.apps.find((a: { name: string }) => a.name === app)
        ?.icon,
    {
      timeout: 10000,
      what: `the catalog to pick up the icon of ${app}`,
    },
  );
}
