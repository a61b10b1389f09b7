/**
 * The bind half of the port guard, as the root helper runs it: the same operation as the
 * nftables half, handed to src/ops/bind-guard.py (Node has no bpf(2); python3's ctypes
 * has). nftables decides who may connect to an app's port, this who may bind one.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { PortRange } from '../limits/port-guard-rules.js';
import { runCommand, type CommandResult } from './system.js';

/** What runs the script with its arguments: tests pass a recorder. */
export type BindGuardRunner = (args: string[]) => CommandResult;

/** By absolute path, like nft: the helper runs as root with a minimal PATH. -I: no PYTHON* variables, no user site; -S: no site at all (half of python's start-up, and ctypes needs none of it). */
const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./bind-guard.py', import.meta.url));
/** Where the script pins its programs (bpffs), one directory per table name. */
const PINS = '/sys/fs/bpf';

export const systemBindGuard: BindGuardRunner = (args) =>
  runCommand(PYTHON, ['-I', '-S', SCRIPT, ...args]);

export interface BindGuardSettings {
  table: string;
  range: PortRange;
  bind: boolean;
}

/**
 * Apply `op` (already checked by the helper) to the bind guard. Returns what to print for
 * `show`, or throws with a message for the admin. With `port_guard.bind: false`, sync and
 * remove take away a bind guard left from before, and the other operations do nothing.
 */
export function applyBindGuard(
  op: string,
  args: string[],
  { table, range, bind }: BindGuardSettings,
  run: BindGuardRunner = systemBindGuard,
): string {
  const call = (operation: string, rest: string[] = []) => {
    const r = run([table, String(range.min), String(range.max), operation, ...rest]);
    if (r.code === 0) return r.stdout;
    if (r.error?.endsWith('ENOENT'))
      throw new Error(
        `bind guard: ${PYTHON} is missing (install python3, or set port_guard.bind: false)`,
      );
    throw new Error(r.stderr.trim() || r.error || `bind guard: exit status ${r.code}`);
  };
  if (!bind) {
    if ((op === 'sync' || op === 'remove') && existsSync(`${PINS}/${table}`)) call('remove');
    return '';
  }
  switch (op) {
    case 'allow':
    case 'revoke':
      return call(op, args);
    // An open port's bind is its owner's as an allowed one's is; only connections differ.
    case 'open':
      return call('allow', args);
    case 'close':
      return call('revoke', args);
    case 'sync':
      // An open entry belongs to a proxy that listened on TCP before an upgrade: it is bound already.
      return call(
        op,
        args.filter((a) => !a.endsWith(':open')),
      );
    case 'show':
      return `# bind guard: port uid\n${call(op)}`;
    default:
      return call(op);
  }
}
