/**
 * What the ports benchmark talks through, on loopback: a real CHP and one real
 * hubapps-proxy as production runs it (on a unix socket), with the user's own ports on
 * (the policy `user_ports` gives by default). Its app is the tiny app, which also listens
 * on a second port: a program of the server, carrying the server's marks because the proxy
 * started it, so the `ports/PORT/` path (kind server) reaches it through every check. The
 * same program is reached three ways, each a route in the same CHP.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startChp } from '../src/chp/chp-process.js';
import { freePort } from '../src/net/ports.js';
import type { PortPolicy } from '../src/protocol/wire.js';
import {
  addRoute,
  startProxy,
  TOKEN,
  untilAnswered,
  USER,
  writeCatalog,
  type HopPath,
  type PathKey,
} from './hop-stack.js';
import type { Processes } from './procs.js';
import { startTokenService } from './token-service.js';

/** As config user_ports leaves it by default (docs/configuration.md). */
const POLICY: PortPolicy = { ranges: [[1024, 65535]], hostPorts: false, cors: [] };
const SERVER = { id: 1, name: 'lab', prefix: `/apps/${USER}/lab/` };

export interface PortsStack {
  /** Keep-alive paths: the program direct through CHP, the server's app, the program as a port. */
  paths: HopPath[];
  /** The same, each request on a new connection to the program (it closes its end; wrk keeps its own). */
  closePaths: HopPath[];
  /** The user's port the program listens on. */
  port: number;
  tokenChecks(): number;
  portAccessCalls(): number;
  stop(): Promise<void>;
}

export async function startPortsStack(procs: Processes): Promise<PortsStack> {
  const dir = await mkdtemp(join(tmpdir(), 'hubapps-bench-ports-'));
  const chpToken = randomBytes(18).toString('base64url');
  const chp = await startChp({ authToken: chpToken });
  const service = await startTokenService(TOKEN, USER, () => SERVER.prefix);
  const cleanup = async () => {
    await procs.stopAll();
    await service.close();
    await chp.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const port = await freePort('127.0.0.1');
    const catalog = await writeCatalog(dir, [String(port)]);
    const proxy = await startProxy(procs, catalog, chp.proxyUrl, service, {
      ...SERVER,
      socket: join(dir, 'proxy.sock'),
      ports: POLICY,
    });
    await addRoute(chp, chpToken, '/direct', `http://127.0.0.1:${port}`);
    await addRoute(
      chp,
      chpToken,
      SERVER.prefix.slice(0, -1),
      `http+unix://${encodeURIComponent(proxy.socket!)}`,
    );
    const origin = chp.proxyUrl;
    const token = { authorization: `token ${TOKEN}` };
    const hop = [chp.pid, proxy.child.pid, proxy.appPid];
    const make = (close: boolean) => {
      const path = (
        key: PathKey,
        label: string,
        base: string,
        headers: Record<string, string>,
        cpuPids: number[],
        hopPids: number[],
      ): HopPath => ({
        key,
        label,
        url: `${base}/${close ? 'close' : ''}`,
        wsUrl: `${base.replace(/^http/, 'ws')}/`,
        headers,
        cpuPids,
        hopPids,
      });
      return [
        path('chp', 'CHP -> the program', `${origin}/direct`, {}, [chp.pid, proxy.appPid], []),
        path(
          'hubapps-unix',
          "CHP -> hubapps-proxy -> the server's app",
          `${origin}${SERVER.prefix}app`,
          token,
          hop,
          [proxy.child.pid],
        ),
        path(
          'port',
          `CHP -> hubapps-proxy -> ports/${port}/`,
          `${origin}${SERVER.prefix}ports/${port}`,
          token,
          hop,
          [proxy.child.pid],
        ),
      ];
    };
    const paths = make(false);
    const closePaths = make(true);
    for (const p of [...paths, ...closePaths]) await untilAnswered(p);
    if (service.portCalls() === 0)
      throw new Error('the port path was answered without a port-access question: not a port');
    return {
      paths,
      closePaths,
      port,
      tokenChecks: service.calls,
      portAccessCalls: service.portCalls,
      stop: cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
