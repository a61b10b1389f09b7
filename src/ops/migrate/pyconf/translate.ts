import { parseConfig, PySyntaxError, type PyValue, type Statement } from './parse.js';
import { portProxyNotes } from './port-proxy.js';
import { traitRule, type AppDraft } from './traits.js';

/** A line that could not be translated: the file is refused. */
export interface Refusal {
  line: number;
  message: string;
}

export interface Translation {
  /** The app file's content (before validation); meaningless when `refusals` is not empty. */
  app: AppDraft;
  /** What the admin should know: settings dropped on purpose, behaviour that changes. */
  notes: Refusal[];
  refusals: Refusal[];
  /** The file sets up a port proxy (/proxy/PORT, jhproxy), which maps to user_ports in hubapps.yaml. */
  portProxy: boolean;
}

/** The classes whose settings the standalone proxy reads (StandaloneProxyServer inherits ServerProcess). */
const CLASSES = new Set(['StandaloneProxyServer', 'ServerProcess']);

const HELPER_IMPORT = /^from\s+utils\s+import\s+(\*|custom_check_origin_patch)\s*$/;
const ORIGIN_NOTE =
  "the role's CORS/WebSocket Origin patch is not needed: hubapps-proxy checks the Origin against public_url itself";

/** Translate one `*.conf.py` file's text; `fallbackTitle` is used when the file names no title. */
export function translateConf(src: string, fallbackTitle: string): Translation {
  const out: Translation = {
    app: { title: fallbackTitle },
    notes: [],
    refusals: [],
    portProxy: false,
  };
  let statements: Statement[];
  try {
    statements = parseConfig(src);
  } catch (err) {
    if (!(err instanceof PySyntaxError)) throw err;
    out.refusals.push({ line: err.line, message: `cannot read the file: ${err.message}` });
    return out;
  }
  /** Trait -> line of its last assignment, refused ones included. */
  const seen = new Map<string, number>();
  for (const st of statements) {
    const refuse = (message: string) =>
      out.refusals.push({ line: st.line, message: `\`${st.text}\`: ${message}` });
    if (st.kind === 'import') {
      if (HELPER_IMPORT.test(st.text))
        out.notes.push({
          line: st.line,
          message: `\`${st.text}\`: the role's utils.py helpers are not needed by hubapps`,
        });
      else refuse('imports cannot be translated: an app file is data, not Python');
    } else if (st.kind === 'call') {
      if (st.callee.join('.').replace(/^utils\./, '') === 'custom_check_origin_patch')
        out.notes.push({ line: st.line, message: `\`${st.text}\`: ${ORIGIN_NOTE}` });
      else refuse('function calls cannot be translated');
    } else if (st.kind === 'other') {
      refuse(st.problem ?? 'not a plain `c.StandaloneProxyServer.NAME = VALUE` setting');
    } else if (
      st.target.length === 1 &&
      st.target[0] === 'c' &&
      /^c\s*=\s*get_config\(\)$/.test(st.text)
    ) {
      // traitlets' own boilerplate: nothing to translate.
    } else {
      assignment(st, out, seen, refuse);
    }
  }
  const portNotes = portProxyNotes(statements);
  out.notes.push(...portNotes);
  out.portProxy = portNotes.length > 0;
  finish(out, seen.has('command'));
  return out;
}

function assignment(
  st: Extract<Statement, { kind: 'assign' }>,
  out: Translation,
  seen: Map<string, number>,
  refuse: (m: string) => void,
): void {
  const [root, cls, trait, ...rest] = st.target;
  if (root !== 'c' || !cls || !trait || rest.length > 0)
    return refuse(
      'only settings of the form c.StandaloneProxyServer.NAME = VALUE can be translated',
    );
  if (!CLASSES.has(cls)) return refuse(classHint(cls));
  const rule = traitRule(trait);
  if (!rule)
    return refuse(`'${trait}' is not a setting of jupyter-server-proxy's standalone proxy`);
  const before = seen.get(trait);
  seen.set(trait, st.line);
  if (st.problem !== undefined) return refuse(`the value is not a literal: ${st.problem}`);
  if (before !== undefined)
    out.notes.push({
      line: st.line,
      message: `${trait} was set on line ${before} too: this later value wins, as in Python`,
    });
  if (st.joinedStrings)
    out.notes.push({
      line: st.line,
      message: 'adjacent strings are joined into one, as Python does (a missing comma?)',
    });
  const result = rule(st.value as PyValue, out.app, st.line);
  if ('refuse' in result) return refuse(result.refuse);
  if (result.note) out.notes.push({ line: st.line, message: `${trait}: ${result.note}` });
}

function classHint(cls: string): string {
  if (cls === 'ServerProxy')
    return 'c.ServerProxy configures the notebook-server extension, not the standalone proxy: write the app file by hand (docs/migration.md)';
  if (
    ['Spawner', 'JupyterHub', 'Authenticator', 'SudoSpawner', 'LocalProcessSpawner'].includes(cls)
  ) {
    return `c.${cls} is JupyterHub's configuration: it stays in jupyterhub_config.py or has a hubapps setting (docs/migration.md)`;
  }
  return `c.${cls} is not the standalone proxy's configuration (c.StandaloneProxyServer)`;
}

/** Checks that need the whole file: a command exists, and the unix socket is used when asked for. */
function finish(out: Translation, commandSet: boolean): void {
  const { app } = out;
  if (!app.command) {
    if (!commandSet)
      out.refusals.push({
        line: 0,
        message: 'no c.StandaloneProxyServer.command: there is no app to start',
      });
    return;
  }
  const templates = [...app.command, ...Object.values(app.environment ?? {})];
  if (app.unixSocketRequested && !templates.some((t) => t.includes('{unix_socket}'))) {
    out.refusals.push({
      line: app.unixSocketRequested,
      message: 'unix_socket = True, but neither the command nor the environment uses {unix_socket}',
    });
  }
  const program = app.command[0]!;
  if (!program.startsWith('/')) {
    out.notes.push({
      line: 0,
      message: `'${program}' is looked up in PATH=/usr/local/bin:/usr/bin:/bin when the app starts: write its absolute path if it lives elsewhere (a venv, /opt)`,
    });
  }
}
