/**
 * The peer: jupyter-server-proxy's standalone proxy (`jupyter standaloneproxy`), run from
 * its source and simpervisor's (JSP_SOURCE: directories holding the jupyter_server_proxy
 * and simpervisor packages, joined with ':') on Debian's Python with Debian's tornado,
 * aiohttp, jupyter-server, traitlets and jupyterhub. Its code is never part of hubapps.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Child, Processes } from './procs.js';

/** Debian's interpreter, which sees the python3-* packages (a python3 earlier in PATH may not). */
const PYTHON = '/usr/bin/python3';
const IMPORTS =
  'import tornado, aiohttp, jupyter_server, traitlets, jupyterhub, simpervisor, jupyter_server_proxy.standalone';

export type JspAvailability = { ok: true; pythonPath: string } | { ok: false; reason: string };

/** Is the peer runnable here? The reason says what is missing when it is not. */
export async function jspAvailable(env = process.env): Promise<JspAvailability> {
  const source = env.JSP_SOURCE;
  if (!source)
    return {
      ok: false,
      reason:
        'JSP_SOURCE is not set (directories with the jupyter_server_proxy and simpervisor packages)',
    };
  const dirs = source.split(':').filter(Boolean);
  for (const pkg of ['jupyter_server_proxy', 'simpervisor']) {
    if (!dirs.some((d) => existsSync(join(d, pkg, '__init__.py'))))
      return { ok: false, reason: `no ${pkg}/__init__.py in JSP_SOURCE (${source})` };
  }
  if (!existsSync(PYTHON)) return { ok: false, reason: `${PYTHON} is missing` };
  const pythonPath = dirs.join(':');
  const failure = await new Promise<string | null>((resolve) => {
    execFile(
      PYTHON,
      ['-c', IMPORTS],
      { env: { PATH: '/usr/bin:/bin', PYTHONPATH: pythonPath }, timeout: 30_000 },
      (err, _out, stderr) =>
        resolve(err ? (stderr.trim().split('\n').at(-1) ?? err.message) : null),
    );
  });
  if (failure)
    return {
      ok: false,
      reason: `${PYTHON} cannot import its dependencies: ${failure} (apt-get install python3-tornado python3-aiohttp python3-jupyter-server python3-traitlets jupyterhub)`,
    };
  return { ok: true, pythonPath };
}

export interface JspOptions {
  pythonPath: string;
  port: number;
  /** e.g. /apps/bench/jsp (the CHP route, which CHP does not strip). */
  baseUrl: string;
  /** The app's argv; '{port}' is replaced by the port jupyter-server-proxy picks. */
  command: string[];
}

/** Start it without authentication (there is no hub here), quiet, with activity reports off. */
export function startJsp(procs: Processes, opts: JspOptions): Child {
  const args = [
    '-c',
    'from jupyter_server_proxy.standalone import main; main()',
    '--no-authentication',
    '--log-level=WARN',
    '--activity-interval=0',
    `--address=127.0.0.1`,
    `--port=${opts.port}`,
    `--base-url=${opts.baseUrl}`,
    '--',
    ...opts.command,
  ];
  const env = {
    PATH: '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/',
    LANG: 'C.UTF-8',
    PYTHONPATH: opts.pythonPath,
  };
  return procs.start('jupyter-server-proxy', PYTHON, args, { env });
}
