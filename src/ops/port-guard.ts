import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { portGuardSchema, portRangeSchema } from '../config/schema.js';
import { parseYamlMapping } from '../config/yaml.js';
import {
  BIND_GUARD_FAILED,
  allowElement,
  checkPort,
  checkUid,
  forwardElements,
  parseEntry,
  replaceTable,
  revokeElement,
  openElement,
  closeElement,
  unforwardElements,
  type ForwardEntry,
} from '../limits/port-guard-rules.js';
import { listenersNow, type Listener } from '../procfs/listeners.js';
import {
  applyBindGuard,
  systemBindGuard,
  type BindGuardRunner,
  type BindGuardSettings,
} from './bind-guard.js';
import {
  ForwardRefused,
  checkForward,
  forwardArg,
  parseForwardSet,
  readForwardPolicy,
  type ForwardPolicy,
} from './forward-policy.js';
import { stdio, type Io } from './io.js';
import { isRoot, runCommand, type CommandResult } from './system.js';

export const PORT_GUARD_USAGE = `usage: hubapps port-guard --config FILE <operation>

The root helper of the port guard (docs/security.md, Local users). The service runs it
with sudo, through the wrapper that hubapps install writes (it fixes --config); the
sudoers rule allows the service user nothing else as root. It changes only the nftables
table port_guard.table and, with port_guard.bind, the BPF bind guard pinned under
/sys/fs/bpf/TABLE, and only for ports inside the configuration's port_range.
  allow PORT UID     only sockets of UID (and PORT:open entries) may connect to PORT,
                     and only UID (and root) may bind it
  revoke PORT UID    take that back (no error if it was not there)
  open PORT UID      every local account may connect to PORT (the proxy of a server
                     JupyterHub started, which the hub's CHP reaches over TCP), and only
                     UID (and root) may bind it
  close PORT UID     take that back (no error if it was not there)
  forward PORT UID   a user's own program (issue 26): only sockets of UID may connect to
                     PORT over loopback; PORT must be in user_ports.ranges, outside
                     port_range, UID at least min_uid, and every listener on PORT UID's
  unforward PORT UID take that back (no error if it was not there)
  sync [ENTRY ...]   rebuild the table with exactly these entries, PORT:UID, PORT:open or
                     fwd:PORT:UID (a forward whose listener is no longer UID's is left out)
  show               print the table and the bind guard's pairs
  remove             delete both (every app port is open again)
--config must be given once, and name a file owned by root that nobody else may write.
Exit status: 0 done, 1 failed, 2 bad arguments, 3 the nftables table is changed but the
bind guard failed, 4 (forward) the port's listener is not only UID's: nothing changed.
`;

/** What runs nft: tests pass a recorder. */
export type Nft = (args: string[], input?: string) => CommandResult;
/** By absolute path, never through PATH: the helper runs as root with the wrapper's minimal PATH, which has no sbin. */
const NFT_PATHS = ['/usr/sbin/nft', '/sbin/nft', '/usr/bin/nft'];
const systemNft: Nft = (args, input) =>
  runCommand(
    NFT_PATHS.find((p) => fs.existsSync(p)) ?? 'nft',
    args,
    input === undefined ? {} : { input },
  );

type GuardSettings = BindGuardSettings & { forwards: ForwardPolicy };

/** Who listens on a port: tests pass a table. */
export type Listeners = (port: number) => Listener[];
const systemListeners: Listeners = (port) => listenersNow().get(port) ?? [];

/** `hubapps port-guard`: returns the exit status. */
export function runPortGuard(
  argv: string[],
  io: Io = stdio,
  nft: Nft = systemNft,
  root = isRoot(),
  bindGuard: BindGuardRunner = systemBindGuard,
  listeners: Listeners = systemListeners,
): number {
  const fail = (message: string, status = 1) => {
    io.err(`hubapps port-guard: ${message}\n`);
    return status;
  };
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    return fail(`${(err as Error).message}\n${PORT_GUARD_USAGE}`, 2);
  }
  if (parsed.help) {
    io.out(PORT_GUARD_USAGE);
    return 0;
  }
  if (!root) return fail('must run as root (the service runs it with sudo)');
  let settings: GuardSettings;
  try {
    settings = readSettings(parsed.config);
  } catch (err) {
    return fail((err as Error).message);
  }
  const [op = '', ...rest] = parsed.positionals;
  if (op === 'forward' || op === 'unforward') {
    try {
      runForward(op, rest, settings, nft, listeners);
      return 0;
    } catch (err) {
      return fail((err as Error).message, err instanceof ForwardRefused ? err.status : 1);
    }
  }
  let script: string;
  try {
    script = commandsFor(op, rest, settings, listeners, io);
  } catch (err) {
    return fail((err as Error).message, 2);
  }
  try {
    io.out(applyNft(op, script, settings, nft));
  } catch (err) {
    return fail((err as Error).message);
  }
  try {
    // Forwards bind as their owners please: the bind guard is port_range's alone.
    const ranged = rest.filter((a) => !forwardArg(a));
    io.out(applyBindGuard(op, ranged, settings, bindGuard));
  } catch (err) {
    return fail((err as Error).message, BIND_GUARD_FAILED);
  }
  return 0;
}

/** The nftables half: what to print for show, or throws with nft's message. */
function applyNft(op: string, script: string, { table, range }: GuardSettings, nft: Nft): string {
  if (op === 'show' || op === 'remove') {
    const r = nft([op === 'show' ? 'list' : 'delete', 'table', 'inet', table]);
    if (r.code !== 0 && /No such file or directory/.test(r.stderr)) {
      if (op === 'show') throw new Error(`there is no table inet ${table}`);
      return '';
    }
    if (r.code !== 0) throw new Error(nftError(r));
    return r.stdout;
  }
  // allow and revoke change elements of the table: the first one makes it.
  if (ELEMENT_OPS.has(op) && nft(['list', 'table', 'inet', table]).code !== 0)
    script = replaceTable(table, range, []) + script;
  const r = nft(['-f', '-'], script);
  if (r.code !== 0) throw new Error(nftError(r));
  return '';
}

/** The operations that change elements of the table (the others replace or read it whole). */
const ELEMENT_OPS = new Set(['allow', 'revoke', 'open', 'close']);

function parse(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return { help: true as const, config: '', positionals };
  // The wrapper gives --config; a second one from the caller would choose other rules.
  if (values.config?.length !== 1) throw new Error('--config must be given exactly once');
  return { help: false as const, config: values.config[0]!, positionals };
}

/** port_range and port_guard.table from a configuration only root can have written (checked on the open file, not its name). */
function readSettings(file: string): GuardSettings {
  let text: string;
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    const st = fs.fstatSync(fd);
    if (st.uid !== 0 || (st.mode & 0o022) !== 0)
      throw new Error(
        `${file} must be owned by root and writable by nobody else (it decides which ports are guarded)`,
      );
    text = fs.readFileSync(fd, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw code ? new Error(`cannot read ${file}: ${code}`, { cause: err }) : err;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
  const doc = parseYamlMapping(text, file);
  const range = portRangeSchema.safeParse(doc.port_range ?? {});
  if (!range.success)
    throw new Error(`${file}: key 'port_range': ${range.error.issues[0]?.message}`);
  const guard = portGuardSchema.safeParse(doc.port_guard ?? {});
  if (!guard.success)
    throw new Error(`${file}: key 'port_guard': ${guard.error.issues[0]?.message}`);
  return {
    table: guard.data.table,
    range: range.data,
    bind: guard.data.bind,
    forwards: readForwardPolicy(doc, file, range.data),
  };
}

/** forward and unforward: one nft transaction against the pairs the table holds now. */
function runForward(
  op: 'forward' | 'unforward',
  args: string[],
  settings: GuardSettings,
  nft: Nft,
  listeners: Listeners,
): void {
  if (args.length !== 2) throw new ForwardRefused(`${op} takes PORT UID`, 2);
  const { table, range } = settings;
  const [port = '', uid = ''] = args;
  const pair = checkForward(port, uid, settings.forwards, listeners, op === 'unforward');
  const held = nft(['-j', 'list', 'set', 'inet', table, 'forwards']);
  let prefix = '';
  let pairs: ForwardEntry[] = [];
  if (held.code === 0) pairs = parseForwardSet(held.stdout);
  else if (nft(['list', 'table', 'inet', table]).code !== 0) {
    if (op === 'unforward') return;
    prefix = replaceTable(table, range, []);
  } else
    throw new Error(
      `table inet ${table} has no forwards set (made by an older hubapps): restart the service, whose start-up sync rebuilds it`,
    );
  const script =
    op === 'forward'
      ? prefix + forwardElements(table, pair, pairs)
      : unforwardElements(table, pair, pairs);
  if (!script) return;
  const r = nft(['-f', '-'], script);
  if (r.code !== 0) throw new Error(nftError(r));
}

/** The nft script of an operation, its arguments checked; show and remove need none. */
function commandsFor(
  op: string | undefined,
  args: string[],
  { table, range, forwards }: GuardSettings,
  listeners: Listeners,
  io: Io,
): string {
  const pair = () => {
    if (args.length !== 2) throw new Error(`${op} takes PORT UID`);
    return { port: checkPort(args[0]!, range), uid: checkUid(args[1]!) };
  };
  switch (op) {
    case 'allow':
      return allowElement(table, pair());
    case 'revoke':
      return revokeElement(table, pair());
    case 'open':
      return openElement(table, pair().port);
    case 'close':
      return closeElement(table, pair().port);
    case 'sync': {
      const fwd: ForwardEntry[] = [];
      for (const a of args.map(forwardArg).filter((f) => f !== undefined)) {
        try {
          fwd.push(checkForward(a[0], a[1], forwards, listeners));
        } catch (err) {
          // A program that ended since its forward was recorded: nothing left to guard.
          if (!(err instanceof ForwardRefused) || err.status === 2) throw err;
          io.out(`left out fwd:${a[0]}:${a[1]}: ${err.message}\n`);
        }
      }
      const ranged = args.filter((a) => !forwardArg(a)).map((a) => parseEntry(a, range));
      return replaceTable(table, range, ranged, fwd);
    }
    case 'show':
    case 'remove':
      if (args.length) throw new Error(`${op} takes no arguments`);
      return '';
    default:
      throw new Error(op ? `unknown operation '${op}'` : 'no operation given');
  }
}

function nftError(r: CommandResult): string {
  return `nft failed: ${r.error ?? (r.stderr.trim() || `exit status ${r.code}`)}${r.error?.endsWith('ENOENT') ? ' (install the nftables package)' : ''}`;
}
