/**
 * The end of the scale run: every server stopped through the API, then a count of what is
 * left, which must be nothing: rows not stopped, hubapps-proxy or app processes still
 * running below the service, and server routes still in CHP.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { ACTIVE_STATES } from '../src/model/states.js';
import type { ApiClient } from './api-client.js';
import { INSTANT_APP_BODY } from './instant-app.js';
import { PROXY_MAIN } from './hop-stack.js';
import type { ScaleEnv } from './scale-section.js';

export interface StopAll {
  stopped: number;
  /** First DELETE -> the last one answered (each answers once its server has stopped), s. */
  seconds: number;
  /** Rows still active (pending, starting, running, stopping) 2 s after the last DELETE answered. */
  rowsLeft: number;
  /** Proxies and apps of the run still alive anywhere on the host (adopted ones are no longer the service's children). */
  processesLeft: number;
  routesLeft: number;
}

export async function stopAllServers(env: ScaleEnv): Promise<StopAll> {
  const running = await serversIn(env.api, (state) => state === 'running');
  const t0 = performance.now();
  for (let i = 0; i < running.length; i += 20)
    await Promise.all(
      running
        .slice(i, i + 20)
        .map((s) => env.api.call('DELETE', `/users/${s.user}/servers/${s.name}`)),
    );
  const seconds = (performance.now() - t0) / 1000;
  await sleep(2000);
  return {
    stopped: running.length,
    seconds,
    rowsLeft: (await serversIn(env.api, (state) => (ACTIVE_STATES as string[]).includes(state)))
      .length,
    processesLeft: runProcesses(env.dir).length,
    routesLeft: await serverRoutes(env),
  };
}

async function serversIn(
  api: ApiClient,
  keep: (state: string) => boolean,
): Promise<{ user: string; name: string }[]> {
  const listed = await api.call('GET', '/users');
  if (listed.status !== 200) throw new Error(`GET /users answered ${listed.status}`);
  return (
    listed.body.users as { name: string; servers: Record<string, { state: string }> }[]
  ).flatMap((u) =>
    Object.entries(u.servers)
      .filter(([, s]) => keep(s.state))
      .map(([name]) => ({ user: u.name, name })),
  );
}

/** A proxy or an instant app of this run, told by its command line (pids are reused). */
export function isServerProcess(pid: number): boolean {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes(PROXY_MAIN) || cmdline.includes(INSTANT_APP_BODY);
  } catch {
    return false;
  }
}

/** This run's proxies (their catalog is in `dir`) and instant apps, anywhere on the host. */
function runProcesses(dir: string): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => {
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        return (
          (cmdline.includes(PROXY_MAIN) && cmdline.includes(dir)) ||
          cmdline.includes(INSTANT_APP_BODY)
        );
      } catch {
        return false;
      }
    });
}

/** The routes CHP holds for servers (the service tags them kind: server). */
export async function serverRoutes(env: ScaleEnv): Promise<number> {
  const res = await fetch(`${env.chp.apiUrl}/api/routes`, {
    headers: { authorization: `token ${env.chpToken}` },
  });
  const routes = (await res.json()) as Record<string, { kind?: string }>;
  return Object.values(routes).filter((r) => r.kind === 'server').length;
}
