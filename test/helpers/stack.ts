import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { pino, type Logger } from 'pino';
import { stringify } from 'yaml';
import { startChp, type RunningChp } from '../../src/chp/chp-process.js';
import { loadConfig } from '../../src/config/load.js';
import type { ConfigInput } from '../../src/config/schema.js';
import { serve, type RunningService } from '../../src/serve.js';
import { tmpDir, type TmpDir } from './tmp.js';

export interface ApiAnswer {
  status: number;
  body: any;
  headers: Headers;
}

/** A real CHP plus the service in local mode (apps run as this test process's user), in one scratch dir. */
export interface LocalStack {
  chp: RunningChp;
  /** The host-routing apps CHP (hostLayout only). */
  appsChp?: RunningChp;
  service: RunningService;
  token: string;
  /** The token both CHPs run with. */
  chpToken: string;
  dir: string;
  catalogDir: string;
  api(
    method: string,
    urlPath: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<ApiAnswer>;
  /** GET through CHP, as a browser or script would. */
  viaChp(urlPath: string, headers?: Record<string, string>): Promise<Response>;
  /**
   * A request to the apps CHP with Host set, as a browser on *.apps.localhost would send it
   * (Node cannot resolve *.localhost, so it connects by address). Redirects are not followed.
   */
  viaApps(
    host: string,
    urlPath: string,
    init?: { method?: string; headers?: Record<string, string>; body?: string },
  ): Promise<RawAnswer>;
  /** Close the service (servers keep running) and serve again from the same database. */
  restartService(): Promise<void>;
  stop(): Promise<void>;
}

export interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

let counter = 0;

/** `log`: the service's logger (default: silent, or $HUBAPPS_TEST_LOG's level). */
export async function startLocalStack(opts: {
  apps: Record<string, object>;
  config?: Partial<ConfigInput>;
  log?: Logger;
  hostLayout?: boolean;
}): Promise<LocalStack> {
  const scratch: TmpDir = await tmpDir('stack');
  const catalogDir = path.join(scratch.path, 'apps.d');
  fs.mkdirSync(catalogDir);
  for (const [name, app] of Object.entries(opts.apps))
    fs.writeFileSync(path.join(catalogDir, `${name}.yaml`), stringify(app));
  const token = crypto.randomBytes(18).toString('base64url');
  const chpToken = crypto.randomBytes(18).toString('base64url');
  const id = `${process.pid}_${++counter}`;
  process.env[`HUBAPPS_T_ADMIN_${id}`] = token;
  process.env[`HUBAPPS_T_CHP_${id}`] = chpToken;
  const chp = await slowStepReported('starting CHP', startChp({ authToken: chpToken }));
  const appsChp = opts.hostLayout
    ? await slowStepReported(
        'starting the apps CHP',
        startChp({ authToken: chpToken, hostRouting: true }),
      )
    : undefined;
  const config = loadConfig(undefined, {
    public_url: chp.proxyUrl,
    listen: { host: '127.0.0.1', port: 0 },
    data_dir: path.join(scratch.path, 'data'),
    log_dir: path.join(scratch.path, 'logs'),
    catalog_dir: catalogDir,
    launcher: 'local',
    admin_token: `env:HUBAPPS_T_ADMIN_${id}`,
    chp: { api_url: chp.apiUrl, auth_token: `env:HUBAPPS_T_CHP_${id}` },
    stop_grace: 1,
    admin_access: true,
    ...(appsChp
      ? {
          apps_domain: 'apps.localhost',
          apps_scheme: 'http' as const,
          apps_port: appsChp.port,
          apps_chp: { api_url: appsChp.apiUrl, auth_token: `env:HUBAPPS_T_CHP_${id}` },
        }
      : {}),
    ...opts.config,
  });
  const log = opts.log ?? pino({ level: process.env.HUBAPPS_TEST_LOG ?? 'silent' });
  const stack: LocalStack = {
    chp,
    appsChp,
    service: await slowStepReported('starting the service', serve(config, log)),
    token,
    chpToken,
    dir: scratch.path,
    catalogDir,
    async api(method, urlPath, body, headers = {}) {
      const res = await fetch(
        `${stack.service.urls.serviceOrigin}${stack.service.urls.servicePrefix()}api${urlPath}`,
        {
          method,
          headers: {
            authorization: `token ${token}`,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
            ...headers,
          },
          body:
            body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
        },
      );
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        /* not JSON: keep the text for the assertion message */
      }
      return { status: res.status, body: parsed, headers: res.headers };
    },
    viaChp(urlPath, headers = {}) {
      return fetch(`${chp.proxyUrl}${urlPath}`, { headers, redirect: 'manual' });
    },
    viaApps(host, urlPath, init = {}) {
      if (!stack.appsChp)
        throw new Error('this stack has no apps CHP: start it with hostLayout: true');
      return rawRequest(stack.appsChp.port, host, urlPath, init);
    },
    async restartService() {
      await stack.service.close();
      stack.service = await serve(config, log);
    },
    async stop() {
      const admin = { name: 'admin', admin: true };
      await Promise.allSettled(
        stack.service.deps.store
          .active()
          .map((s) => stack.service.manager.stop(admin, s.user, s.name)),
      );
      await stack.service.close();
      await chp.stop();
      await stack.appsChp?.stop();
      await scratch.remove();
    },
  };
  return stack;
}

const SLOW_STEP_MS = 5000;

/**
 * A stack normally starts in about a second; when a step takes far longer, say which, on
 * stderr, so that a hook timeout in a long run points at the step and not at the whole hook.
 */
async function slowStepReported<T>(step: string, work: Promise<T>): Promise<T> {
  const started = Date.now();
  const timer = setTimeout(
    () =>
      process.stderr.write(`startLocalStack: ${step} has taken over ${SLOW_STEP_MS} ms so far\n`),
    SLOW_STEP_MS,
  );
  try {
    return await work;
  } finally {
    clearTimeout(timer);
    const took = Date.now() - started;
    if (took > SLOW_STEP_MS) process.stderr.write(`startLocalStack: ${step} took ${took} ms\n`);
  }
}

/** One HTTP/1.1 request to 127.0.0.1:port with the given Host header. */
export function rawRequest(
  port: number,
  host: string,
  urlPath: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: urlPath,
        method: init.method ?? 'GET',
        headers: { ...init.headers, host },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(init.body);
  });
}
