/**
 * kill -9 of the service with every server running, a fresh `hubapps serve`, and the time
 * until the new instance has re-adopted them all: its adoption pass has probed every proxy
 * (the log line 'hubapps serving; servers re-adopted' with adopted = N), every row is
 * running and CHP still routes every server. Also the cleanup of whatever a failed run
 * left: proxies and apps found through the database, checked by their command line.
 */
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { alive, killAll, type Child } from './procs.js';
import type { ScaleEnv } from './scale-section.js';
import { isServerProcess, serverRoutes } from './scale-stop.js';
import { startService } from './service-process.js';

export interface Restart {
  /** kill -9 -> the old process is gone, s. */
  goneS: number;
  /** kill -9 -> the new service answers its health check, s. */
  healthS: number;
  /** kill -9 -> every server re-adopted (adoption pass logged, rows running, routes in CHP), s. */
  adoptedS: number;
  /** Duration of the adoption pass as the service logged it, ms. */
  adoptionPassMs: number | null;
  adopted: number | null;
}

export async function restartAndAdopt(
  env: ScaleEnv,
  service: Child,
  n: number,
  note: (line: string) => void,
): Promise<{ service: Child; figure: Restart }> {
  const seen = env.log.lines.length;
  const t0 = performance.now();
  await service.kill9();
  const goneS = (performance.now() - t0) / 1000;
  const fresh = await startService(env.procs, env.configFile, env.env, env.healthUrl, env.log);
  const healthS = (performance.now() - t0) / 1000;
  const end = Date.now() + 60_000;
  for (;;) {
    const line = env.log.lines
      .slice(seen)
      .find((l) => l.msg === 'hubapps serving; servers re-adopted');
    if (line && (await allRunning(env, n)) && (await serverRoutes(env)) >= n) {
      const figure = {
        goneS,
        healthS,
        adoptedS: (performance.now() - t0) / 1000,
        adoptionPassMs: num(line.ms),
        adopted: num(line.adopted),
      };
      note(`re-adopted ${figure.adopted} servers ${figure.adoptedS.toFixed(2)} s after kill -9`);
      return { service: fresh, figure };
    }
    if (Date.now() > end)
      throw new Error(
        `the servers were not re-adopted within 60 s; service output:\n${fresh.output().slice(-3000)}`,
      );
    await sleep(20);
  }
}

function num(v: unknown): number | null {
  return typeof v === 'number' ? v : null;
}

async function allRunning(env: ScaleEnv, n: number): Promise<boolean> {
  const r = await env.api.call('GET', '/users');
  if (r.status !== 200) return false;
  const states = (r.body.users as { servers: Record<string, { state: string }> }[]).flatMap((u) =>
    Object.values(u.servers).map((s) => s.state),
  );
  return states.filter((s) => s === 'running').length >= n;
}

/** Proxies and apps recorded in the database that still run (checked by command line, since pids are reused): killed. */
export async function killLeftovers(env: ScaleEnv): Promise<void> {
  let rows: { launcher_pid: number | null; proxy_pid: number | null; app_pid: number | null }[] =
    [];
  try {
    const db = new Database(join(env.dir, 'data', 'hubapps.sqlite'), {
      readonly: true,
      fileMustExist: true,
    });
    rows = db.prepare('SELECT launcher_pid, proxy_pid, app_pid FROM servers').all() as typeof rows;
    db.close();
  } catch {
    return;
  }
  const pids = rows
    .flatMap((r) => [r.launcher_pid, r.proxy_pid, r.app_pid])
    .filter((p): p is number => p !== null && alive(p) && isServerProcess(p));
  if (pids.length > 0) await killAll(pids, 3000);
}
