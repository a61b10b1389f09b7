import { useLoginLink } from '../helpers/login-link.js';
/**
 * What the reliability suite adds to the system stack (test/system/system-stack.ts):
 * extra catalog apps, a config change with a service restart, CHP killed and started
 * again, credentials for test users, raw HTTP (no URL normalisation), custom sudoers
 * rules, and one check that the database, the processes and CHP agree.
 */
import { readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { parse, stringify } from 'yaml';
import { startChp } from '../../src/chp/chp-process.js';
import { waitFor } from '../helpers/wait.js';
import { installCatalog, installSudoersText, TEST_USERS } from '../system/harness.js';
import { allProcesses, environOf, isAlive, uidOfUser } from '../system/proc-scan.js';
import { routeTargetOf, type SystemStack } from '../system/system-stack.js';
import { RELIABILITY_APPS } from './apps.js';

export const ACTIVE = ['pending', 'starting', 'running', 'stopping'];

/** Add the reliability apps to the stack's catalog and wait until the service has reloaded it. */
export async function addReliabilityApps(stack: SystemStack): Promise<void> {
  await installCatalog(stack.installed!.catalogDir, RELIABILITY_APPS);
  await waitFor(
    async () => {
      const names = ((await stack.api('GET', '/apps')).body.apps as Array<{ name: string }>).map(
        (a) => a.name,
      );
      return Object.keys(RELIABILITY_APPS).every((n) => names.includes(n));
    },
    { timeout: 10_000, what: 'the service to load the reliability apps' },
  );
}

/**
 * Change keys of the service's config file (top-level objects are merged one level deep)
 * and restart the service (SIGTERM, as systemctl restart does) so it reads them.
 */
export async function reconfigure(
  stack: SystemStack,
  patch: Record<string, unknown>,
): Promise<void> {
  const file = stack.configPath;
  const config = parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  for (const [key, value] of Object.entries(patch)) {
    const old = config[key];
    const bothObjects =
      typeof value === 'object' && value !== null && typeof old === 'object' && old !== null;
    config[key] = bothObjects ? { ...(old as object), ...(value as object) } : value;
  }
  await writeFile(file, stringify(config), { mode: 0o644 });
  await stack.service!.stop();
  await stack.startService();
}

/** kill -9 CHP (a crash, the OOM killer) and wait until it is gone. */
export async function killChp(stack: SystemStack): Promise<void> {
  const pid = stack.chp!.pid;
  process.kill(pid, 'SIGKILL');
  await waitFor(() => !isAlive(pid), { timeout: 5000, what: 'CHP to die' });
}

/** A fresh CHP (no routes) on the ports of the one that died, as systemd's Restart= would bring it back. */
export async function startChpAgain(stack: SystemStack): Promise<void> {
  const { port, apiPort } = stack.chp!;
  stack.chp = await startChp({ authToken: stack.chpToken, port, apiPort });
}

/** A hubapps API token of `user`, minted with the admin token. */
export async function tokenFor(stack: SystemStack, user: string): Promise<string> {
  const r = await stack.api('POST', `/users/${user}/tokens`, { note: 'reliability suite' });
  if (r.status !== 201) throw new Error(`token for ${user}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.token as string;
}

export function serviceOrigin(stack: SystemStack): string {
  return `http://127.0.0.1:${stack.port}`;
}

/** A launcher session of `user` ("hubapps-session=..."), through an admin-minted login link as a browser would use it. */
export async function sessionFor(stack: SystemStack, user: string): Promise<string> {
  const link = await stack.api('POST', `/users/${user}/login-links`, {});
  if (link.status !== 201)
    throw new Error(`login link for ${user}: ${link.status} ${JSON.stringify(link.body)}`);
  const res = await useLoginLink(serviceOrigin(stack), link.body.url as string);
  await res.body?.cancel();
  const cookie = res.headers.get('set-cookie');
  if (res.status !== 302 || !cookie)
    throw new Error(`login link for ${user} answered ${res.status}`);
  return cookie.split(';')[0]!;
}

export interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * One HTTP request with the path sent byte for byte (fetch would resolve '..' and
 * re-encode), to 127.0.0.1:port or to a unix socket (a proxy's).
 */
export function raw(
  at: number | string,
  path: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<RawAnswer> {
  const where = typeof at === 'number' ? { host: '127.0.0.1', port: at } : { socketPath: at };
  return new Promise((resolve, reject) => {
    const req = http.request(
      { ...where, path, method: opts.method ?? 'GET', headers: opts.headers, agent: false },
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
    req.end(opts.body);
  });
}

/** Install a sudoers rule of our own (checked by visudo first); resolves to its remover. */
export function writeRule(text: string): Promise<() => Promise<void>> {
  return installSudoersText(text);
}

/**
 * Everything that disagrees between the database, the processes and CHP, as sentences
 * (empty when all agree): no row half-way (pending, starting, stopping); each running row
 * has live sudo, proxy and app and its route to its port; no route without a running row;
 * no process of this stack that belongs to no running row.
 */
export async function inconsistencies(stack: SystemStack): Promise<string[]> {
  const problems: string[] = [];
  const rows = stack.servers();
  const routes = await stack.routes();
  const running = rows.filter((r) => r.state === 'running');
  for (const r of rows.filter((r) => ACTIVE.includes(r.state) && r.state !== 'running'))
    problems.push(`${r.user}/${r.name} is stuck in ${r.state}`);
  for (const r of running) {
    for (const [what, pid] of [
      ['sudo', r.launcher_pid],
      ['proxy', r.proxy_pid],
      ['app', r.app_pid],
    ] as const) {
      if (!isAlive(pid))
        problems.push(`${r.user}/${r.name} is running but its ${what} (pid ${pid}) is gone`);
    }
    const route = routes[`/apps/${r.user}/${r.name}`];
    if (route?.target !== routeTargetOf(r))
      problems.push(`${r.user}/${r.name} is running but its route is ${JSON.stringify(route)}`);
  }
  for (const [path, route] of Object.entries(routes)) {
    if (
      route.hubapps &&
      route.kind === 'server' &&
      !running.some((r) => r.user === route.user && r.name === route.server)
    ) {
      problems.push(`stale route ${path} -> ${route.target}`);
    }
  }
  problems.push(...(await orphans(stack)));
  return problems;
}

/**
 * Processes of this stack that no running row accounts for: proxies (their argv names the
 * install directory) and sudo processes (their argv names the proxy) of rows that are not
 * running, and app processes marked with a server of this database that is not running.
 * Processes of other stacks on this machine (other test runs) are not looked at.
 */
async function orphans(stack: SystemStack): Promise<string[]> {
  const rows = stack.servers();
  const running = rows.filter((r) => r.state === 'running');
  const users = new Map<number, string>();
  for (const name of [TEST_USERS.alice, TEST_USERS.bob]) users.set(await uidOfUser(name), name);
  const svc = await uidOfUser(TEST_USERS.svc);
  const root = stack.installed!.root;
  const found: string[] = [];
  for (const p of allProcesses()) {
    const ours = p.argv.some((a) => a.includes(root));
    const user = users.get(p.uids[0]!);
    if (user !== undefined && ours) {
      if (!running.some((r) => r.proxy_pid === p.pid))
        found.push(`orphan proxy ${p.pid} of ${user}`);
    } else if (user !== undefined) {
      const env = environOf(p.pid);
      const row = rows.find(
        (r) =>
          String(r.id) === env.HUBAPPS_SERVER_ID &&
          r.user === env.JUPYTERHUB_USER &&
          r.name === env.JUPYTERHUB_SERVER_NAME,
      );
      if (row && row.state !== 'running')
        found.push(
          `orphan app process ${p.pid} of ${row.user}/${row.name} (${row.state}): ${p.argv.join(' ').slice(0, 80)}`,
        );
    } else if (
      p.uids[0] === svc &&
      ours &&
      p.argv[0]?.endsWith('/sudo') &&
      !running.some((r) => r.launcher_pid === p.pid)
    ) {
      found.push(`orphan sudo ${p.pid}: ${p.argv.join(' ')}`);
    }
  }
  return found;
}

/** Wait (up to `timeout`) until database, processes and CHP agree; throws with the remaining disagreements. */
export async function settled(stack: SystemStack, timeout = 10_000): Promise<void> {
  let last: string[] = [];
  try {
    await waitFor(async () => (last = await inconsistencies(stack)).length === 0, {
      timeout,
      interval: 200,
      what: 'database, processes and CHP to agree',
    });
  } catch {
    throw new Error(`not consistent after ${timeout} ms:\n  ${last.join('\n  ')}`);
  }
}

/** Run `fn` over `items` with at most `limit` at a time; results in input order. */
export async function pool<T, R>(
  items: T[],
  limit: number,
  fn: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i]!, i);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
