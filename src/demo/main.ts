import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { startChp } from '../chp/chp-process.js';
import { loadConfig } from '../config/load.js';
import { HubappsError } from '../errors.js';
import { serve } from '../serve.js';
import { buildDemoCatalog, compileDemoCatalog } from './catalog.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/**
 * `npm run demo`: two real configurable-http-proxies, the service in local mode (apps run
 * as whoever runs the demo, no sudo) and the demo apps, all on loopback, in the per-server
 * origin layout: the launcher on http://127.0.0.1:PORT (the "hub" CHP, path routing) and
 * every server on its own host http://SERVER--USER.apps.localhost:APPS_PORT (the apps CHP,
 * host routing). Browsers and curl resolve *.localhost to loopback and treat it as a secure
 * context, so the __Host- access cookies work without TLS. Node's resolver does not, which
 * is why the demo's own requests go to loopback addresses. Ctrl-C stops the servers it
 * started, the service and both CHPs, and removes its scratch directory.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      apps: { type: 'string', multiple: true },
      port: { type: 'string', default: '8000' },
      'apps-port': { type: 'string' },
      'path-layout': { type: 'boolean', default: false },
      'api-port': { type: 'string' },
    },
  });
  const port = Number(values.port);
  const token = process.env.HUBAPPS_DEMO_TOKEN || crypto.randomBytes(24).toString('base64url');
  const chpToken = crypto.randomBytes(24).toString('base64url');
  const appsChpToken = crypto.randomBytes(24).toString('base64url');
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'hubapps-demo-'));
  const catalogDir = buildDemoCatalog(path.join(scratch, 'apps.d'), REPO, values.apps ?? []);
  const uncompiled = compileDemoCatalog(catalogDir);

  const chp = await startChp({
    port,
    apiPort: values['api-port'] ? Number(values['api-port']) : undefined,
    authToken: chpToken,
    onOutput: () => undefined,
  }).catch((err: unknown) => {
    throw new HubappsError(
      'demo_port',
      `could not start configurable-http-proxy on port ${port} (${(err as Error).message}); pick another with: npm run demo -- --port 8100`,
    );
  });
  const appsPort = values['apps-port'] ? Number(values['apps-port']) : chp.port + 1;
  const appsChp = values['path-layout']
    ? undefined
    : await startChp({
        port: appsPort,
        authToken: appsChpToken,
        hostRouting: true,
        onOutput: () => undefined,
      }).catch(async (err: unknown) => {
        await chp.stop();
        throw new HubappsError(
          'demo_port',
          `could not start the apps CHP on port ${appsPort} (${(err as Error).message}); pick another with: npm run demo -- --apps-port 8200`,
        );
      });
  process.env.HUBAPPS_DEMO_APPS_CHP_TOKEN = appsChpToken;
  process.env.HUBAPPS_DEMO_ADMIN_TOKEN = token;
  process.env.HUBAPPS_DEMO_CHP_TOKEN = chpToken;
  const publicUrl = `http://127.0.0.1:${chp.port}`;
  const user = os.userInfo().username.replace(/[^A-Za-z0-9_.-]/g, '') || 'demo';
  const config = loadConfig(undefined, {
    public_url: publicUrl,
    listen: { host: '127.0.0.1', port: 0 },
    data_dir: path.join(scratch, 'data'),
    log_dir: path.join(scratch, 'logs'),
    catalog_dir: catalogDir,
    launcher: 'local',
    admin_token: 'env:HUBAPPS_DEMO_ADMIN_TOKEN',
    chp: {
      api_url: chp.apiUrl,
      auth_token: 'env:HUBAPPS_DEMO_CHP_TOKEN',
      register_service_route: true,
    },
    ...(appsChp
      ? {
          apps_domain: 'apps.localhost',
          apps_scheme: 'http' as const,
          apps_port: appsChp.port,
          apps_chp: { api_url: appsChp.apiUrl, auth_token: 'env:HUBAPPS_DEMO_APPS_CHP_TOKEN' },
        }
      : {}),
    reconcile_interval: 5,
    // The printed token is an admin token; let it open the demo user's servers too.
    admin_access: true,
    // Whoever runs the demo sees the launcher's admin view too.
    admin_users: [user],
  });
  const log = pino({ level: process.env.HUBAPPS_LOG_LEVEL ?? 'error' });
  const service = await serve(config, log);

  const api = `${publicUrl}${service.urls.servicePrefix()}api`;
  const loginLink = await mintLoginLink(
    `${service.urls.serviceOrigin}${service.urls.servicePrefix()}api`,
    token,
    user,
  );
  const hello = service.urls.publicServerUrl(user, 'hello');
  const layout = appsChp
    ? `Each server has its own host name under *.apps.localhost (port ${appsChp.port}), e.g. ${hello}
(Chromium, Firefox and curl resolve *.localhost to this machine; --path-layout turns this off)`
    : "Path layout: every server under the launcher's origin (without --path-layout each server gets its own host name)";
  process.stdout.write(`
hubapps demo is running (apps run as ${os.userInfo().username}, without sudo)
${layout}

Open this link in your browser to log in to the launcher as ${user} (an admin); it works once, for 10 minutes:
  Launcher login link: ${loginLink}

  Public URL:  ${publicUrl}
  Launcher:    ${service.urls.launcherUrl()}
  API:         ${api}
  API token: ${token}

Start the demo app "hello" as server "hello" of user "${user}", then open it in the browser
you logged in with above (tokens in URLs are not accepted; scripts send the header):
  curl -H "Authorization: token ${token}" -H "Content-Type: application/json" \\
       -X POST -d '{"app":"hello"}' ${api}/users/${user}/servers/hello
  open ${hello}
  curl -H "Authorization: token ${token}" ${hello}

A new login link for the launcher (as an admin, for any user):
  curl -H "Authorization: token ${token}" -H "Content-Type: application/json" \\
       -X POST -d '{"expires_in": 600}' ${api}/users/${user}/login-links

Apps in the catalog: ${service.deps
    .catalog()
    .list()
    .map((a) => a.name)
    .join(', ')}   (add your own with --apps DIR)${uncompiled ? `\n${uncompiled}` : ''}
Press Ctrl-C to stop everything.
`);

  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    process.stdout.write('\nstopping demo servers, the service and configurable-http-proxy...\n');
    const admin = { name: 'admin', admin: true };
    await Promise.allSettled(
      service.deps.store.active().map((s) => service.manager.stop(admin, s.user, s.name)),
    );
    await service.close();
    await chp.stop();
    await appsChp?.stop();
    fs.rmSync(scratch, { recursive: true, force: true });
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown());
  process.on('SIGTERM', () => void shutdown());
}

/** A single-use launcher login link, minted through the API like an admin would. */
async function mintLoginLink(api: string, token: string, user: string): Promise<string> {
  const res = await fetch(`${api}/users/${user}/login-links`, {
    method: 'POST',
    headers: { authorization: `token ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ expires_in: 600 }),
  });
  const body = (await res.json()) as { url?: string; message?: string };
  if (!res.ok || !body.url)
    throw new HubappsError(
      'demo_login_link',
      `could not mint a launcher login link: ${body.message ?? res.status}`,
    );
  return body.url;
}

main().catch((err: unknown) => {
  process.stderr.write(
    `hubapps demo: ${err instanceof HubappsError ? err.message : (err as Error).stack}\n`,
  );
  process.exit(1);
});
