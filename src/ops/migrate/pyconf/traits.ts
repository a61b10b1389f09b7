import type { PyValue } from './parse.js';

/**
 * What each setting of jupyter-server-proxy's standalone proxy (StandaloneProxyServer and
 * the ServerProcess traits it inherits) becomes in a hubapps app file. A rule either
 * changes the draft (optionally with a note for the admin) or refuses with the reason.
 */

/** The app file being built, plus what the whole-file checks need. */
export interface AppDraft {
  title: string;
  command?: string[];
  environment?: Record<string, string>;
  ready?: { timeout: number };
  strip_prefix?: boolean;
  /** Line of `unix_socket = True`, checked against the command once the file is read. */
  unixSocketRequested?: number;
}

export type RuleResult = { note?: string } | { refuse: string };
export type TraitRule = (value: PyValue, app: AppDraft, line: number) => RuleResult;

const done: RuleResult = {};
const isStringList = (v: PyValue): v is string[] =>
  Array.isArray(v) && v.every((x) => typeof x === 'string');
const isStringDict = (v: PyValue): v is Record<string, string> =>
  v !== null &&
  typeof v === 'object' &&
  !Array.isArray(v) &&
  Object.values(v).every((x) => typeof x === 'string');
const isEmpty = (v: PyValue) =>
  v === null ||
  (Array.isArray(v) ? v.length === 0 : typeof v === 'object' && Object.keys(v).length === 0);
const ignored =
  (why: string): TraitRule =>
  () => ({ note: `ignored: ${why}` });
const noEquivalent =
  (what: string): TraitRule =>
  (v) =>
    isEmpty(v) || v === false ? done : { refuse: `hubapps has no equivalent of ${what}` };

const RULES: Record<string, TraitRule> = {
  command: (v, app) => {
    if (!isStringList(v)) return { refuse: 'command must be a list of strings' };
    if (v.length === 0)
      return { refuse: 'an empty command starts nothing: hubapps always starts the app itself' };
    app.command = v;
    return done;
  },
  environment: (v, app) => {
    if (!isStringDict(v)) return { refuse: 'environment must be a dict of strings' };
    app.environment = v;
    return done;
  },
  timeout: (v, app) => {
    if (typeof v !== 'number' || v <= 0 || v > 3600)
      return { refuse: 'timeout must be a number of seconds between 1 and 3600' };
    app.ready = { timeout: v };
    return done;
  },
  absolute_url: (v, app) => {
    if (typeof v !== 'boolean') return { refuse: 'absolute_url must be True or False' };
    if (v) app.strip_prefix = false;
    return done;
  },
  unix_socket: (v, app, line) => {
    if (v === null || v === false) return done;
    if (v === true) {
      app.unixSocketRequested = line;
      return {
        note: 'hubapps puts the socket in a private per-user directory because the command uses {unix_socket}',
      };
    }
    return {
      refuse:
        'a fixed socket path would be shared by every user: use {unix_socket} in the command and unix_socket = True',
    };
  },
  server_port: (v) =>
    v === 0
      ? done
      : {
          refuse: `the app would listen on the fixed port ${String(v)}, which two users cannot share: pass {port} to it instead`,
        },
  name: (v, app) => {
    if (typeof v !== 'string') return { refuse: 'name must be a string' };
    if (v) app.title = v;
    return done;
  },
  launcher_entry: launcherEntry,
  port: ignored('hubapps gives every server its own loopback port'),
  address: ignored('hubapps-proxy listens on 127.0.0.1, behind configurable-http-proxy'),
  base_url: ignored('hubapps sets it to /apps/USER/SERVER/ ({base_url} in the command)'),
  skip_authentication: (v) =>
    v === true
      ? { note: 'hubapps always asks who is there: the app is no longer open to anyone' }
      : done,
  no_authentication: (v) =>
    v === true
      ? { note: 'hubapps always asks who is there: the app is no longer open to anyone' }
      : done,
  mappath: noEquivalent('mappath (rewriting request paths)'),
  request_headers_override: noEquivalent('request_headers_override'),
  rewrite_response: noEquivalent('rewrite_response'),
  raw_socket_proxy: noEquivalent('raw_socket_proxy (raw TCP over WebSocket)'),
  progressive: (v) =>
    v === null ? done : { note: 'ignored: hubapps-proxy streams every response' },
  update_last_activity: (v) =>
    v === false
      ? {
          note: 'ignored: hubapps always tracks activity; set idle_timeout: 0 to never stop the app for being idle',
        }
      : done,
  activity_interval: ignored(
    'hubapps-proxy reports activity itself (jupyterhub.forward_activity passes it on to JupyterHub)',
  ),
  websocket_max_message_size: ignored('hubapps-proxy does not limit WebSocket messages'),
  new_browser_tab: () => done,
  log_level: ignored('the proxy logs to the per-server log file'),
};

const ENTRY_KEYS = new Set(['enabled', 'icon_path', 'title', 'path_info', 'category']);

function launcherEntry(v: PyValue, app: AppDraft): RuleResult {
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    return { refuse: 'launcher_entry must be a dict' };
  const unknown = Object.keys(v).filter((k) => !ENTRY_KEYS.has(k));
  if (unknown.length > 0) return { refuse: `unknown launcher_entry key(s): ${unknown.join(', ')}` };
  if (typeof v.title === 'string' && v.title) app.title = v.title;
  const notes: string[] = [];
  if (v.enabled === false)
    notes.push(
      'enabled=False has no meaning here: every app in the catalog is on the launcher (allowed_groups limits who may start it)',
    );
  if (typeof v.icon_path === 'string' && v.icon_path)
    notes.push(`copy ${v.icon_path} into the catalog directory and set icon: to its file name`);
  if (v.path_info !== undefined)
    notes.push('path_info ignored: servers live at /apps/USER/SERVER/');
  return notes.length ? { note: notes.join('; ') } : done;
}

export function traitRule(trait: string): TraitRule | undefined {
  return Object.hasOwn(RULES, trait) ? RULES[trait] : undefined;
}
