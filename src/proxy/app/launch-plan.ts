/**
 * Turns a catalog app and the start request into what gets executed: the argv, a clean
 * environment, and where the app will listen (its loopback port, or a unix socket in the
 * server's private runtime directory). The secret never enters the plan. A built-in app
 * (`builtin: terminal`) runs the user's login shell and always listens on a unix socket.
 */
import { join } from 'node:path';
import { freePort } from '../../net/ports.js';
import type { BuiltinApp, CatalogApp, PlaceholderValues } from '../../catalog/types.js';
import type { StartRequest } from '../../protocol/wire.js';
import { expandPlaceholders, placeholdersIn, usesFormValue } from './placeholders.js';
import { HubappsError } from '../../errors.js';
import { checkedFormValues } from './form-check.js';
import { APP_SOCKET, makeRuntimeDir } from './runtime-dir.js';
import { serverMarks } from './marks.js';

/** The PATH every app starts with (an app file's `environment` may set another); doctor looks programs up in it too. */
export const APP_PATH = '/usr/local/bin:/usr/bin:/bin';

export type AppTarget = { port: number } | { socket: string };

export interface LaunchPlan {
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  target: AppTarget;
  /** The server's private runtime directory, removed when the proxy ends. */
  runtimeDir?: string;
  /** Set for a built-in app: the proxy runs it in-process on `target`, and argv is the program it runs (the shell). */
  builtin?: BuiltinApp;
}

export interface Account {
  username: string;
  homedir: string;
  shell: string | null;
}

export async function planLaunch(
  app: CatalogApp,
  req: StartRequest,
  account: Account,
  env = process.env,
): Promise<LaunchPlan> {
  const command = app.command ?? [];
  if (command[0] !== undefined && usesFormValue(command[0]))
    throw new HubappsError(
      'invalid_placeholder',
      `${app.file}: key 'command[0]': the program cannot come from a launch form value`,
    );
  const templates = [...command, ...Object.values(app.environment)];
  const used = new Set(templates.flatMap((t) => placeholdersIn(t)));
  const dir =
    used.has('unix_socket') || app.builtin ? makeRuntimeDir(req.runtimeDir, env) : undefined;
  const socket = dir ? join(dir, APP_SOCKET) : '';
  // The service hands out {port} from port_range, unique among its servers; a job on a node picks its own.
  const port = used.has('port') || !socket ? (req.appPort ?? (await freePort())) : 0;
  const values: PlaceholderValues = {
    port: port ? String(port) : '',
    unix_socket: socket,
    base_url: req.prefix,
    user: req.server.user,
    server: req.server.name,
    home: account.homedir,
  };
  const form = await checkedFormValues(app, req.form ?? {}, account.homedir);
  const target: AppTarget = socket ? { socket } : { port };
  return {
    argv: app.builtin
      ? [loginShell(account, env), '-l']
      : command.map((t) => expandPlaceholders(t, values, form)),
    // Later wins: the account's basics, the host's environment, the app file's, then hubapps' own.
    env: {
      ...baseEnvironment(account, env),
      ...req.environment,
      ...(app.builtin ? { COLORTERM: 'truecolor' } : {}),
      ...expandEach(app.environment, values, form),
      ...hubappsEnvironment(req, target),
      ...(req.node ? slurmJobEnvironment(env) : {}),
    },
    cwd: account.homedir,
    target,
    ...(dir ? { runtimeDir: dir } : {}),
    ...(app.builtin ? { builtin: app.builtin } : {}),
  };
}

/** The account's shell from the password database, else $SHELL, else /bin/sh. */
function loginShell(account: Account, env: NodeJS.ProcessEnv): string {
  const shell = account.shell || env.SHELL;
  return shell && shell.startsWith('/') ? shell : '/bin/sh';
}

function baseEnvironment(account: Account, env: NodeJS.ProcessEnv): Record<string, string> {
  return {
    PATH: APP_PATH,
    HOME: account.homedir,
    USER: account.username,
    LOGNAME: account.username,
    SHELL: loginShell(account, env),
    LANG: env.LANG || 'C.UTF-8',
    TERM: 'xterm-256color',
  };
}

/**
 * What apps written for JupyterHub's single-user servers and jupyter-server-proxy look for
 * (docs/apps.md, "The app's environment"), and the marks that find the server's processes.
 * The API is the service's loopback address, which the app reaches as its proxy does.
 */
function hubappsEnvironment(req: StartRequest, target: AppTarget): Record<string, string> {
  const serviceUrl = 'port' in target ? `http://127.0.0.1:${target.port}/` : 'http://localhost/';
  const apiUrl = `${req.serviceUrl}api`;
  return {
    JUPYTERHUB_USER: req.server.user,
    JUPYTERHUB_SERVER_NAME: req.server.name,
    JUPYTERHUB_SERVICE_PREFIX: req.prefix,
    JUPYTERHUB_BASE_URL: req.baseUrl ?? '/',
    JUPYTERHUB_SERVICE_URL: serviceUrl,
    JUPYTERHUB_API_URL: apiUrl,
    JUPYTERHUB_ACTIVITY_URL: `${apiUrl}/users/${req.server.user}/activity`,
    ...(req.group ? { JUPYTERHUB_GROUP: req.group } : {}),
    ...(req.apiToken ? { JUPYTERHUB_API_TOKEN: req.apiToken } : {}),
    ...serverMarks(req.server.id, process.pid),
  };
}

/** In a Slurm job the app sees the job's SLURM_* variables (its id, cores, memory), so it can size itself. */
function slurmJobEnvironment(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter(
      (e): e is [string, string] => e[0].startsWith('SLURM_') && e[1] !== undefined,
    ),
  );
}

function expandEach(
  vars: Record<string, string>,
  values: PlaceholderValues,
  form: Record<string, string>,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(vars).map(([k, v]) => [k, expandPlaceholders(v, values, form)]),
  );
}
