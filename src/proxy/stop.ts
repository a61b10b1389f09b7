/**
 * The last-resort 'stop' op: the service could not stop a wedged proxy through its
 * shutdown endpoint or sudo's signal relay, so it runs a second proxy as the user to kill
 * the first. Only a process of this user whose command line is hubapps-proxy is touched;
 * afterwards app processes still marked with that proxy's pid and server id are stopped.
 */
import { serverMarks } from './app/marks.js';
import type { StopRequest } from '../protocol/wire.js';
import { alive, isOurProxy, markedProcesses, signal, waitUntil } from '../procfs/processes.js';
import { describeError, log } from './log.js';
import { lstatSync, unlinkSync } from 'node:fs';
import { errnoCode } from '../errors.js';

const PROXY_GRACE_MS = 5000;
const LEFTOVER_GRACE_MS = 2000;

/** Returns the exit code: 0 when the proxy and its app are gone. */
export async function runStop(req: StopRequest): Promise<number> {
  const { pid } = req;
  if (alive(pid)) {
    if (!isOurProxy(pid)) {
      log(`pid ${pid} is not a hubapps-proxy of this user: left alone`);
      return 1;
    }
    signal(pid, 'SIGTERM');
    if (!(await waitUntil(() => !alive(pid), PROXY_GRACE_MS))) {
      log(`proxy ${pid} ignored SIGTERM for ${PROXY_GRACE_MS / 1000} s: sending SIGKILL`);
      signal(pid, 'SIGKILL');
      await waitUntil(() => !alive(pid), LEFTOVER_GRACE_MS);
    }
  }
  const marks = serverMarks(req.server.id, pid);
  const killLeft = (sig: NodeJS.Signals) => markedProcesses(marks).forEach((p) => signal(p, sig));
  killLeft('SIGTERM');
  if (!(await waitUntil(() => markedProcesses(marks).length === 0, LEFTOVER_GRACE_MS, 100))) {
    killLeft('SIGKILL');
    await waitUntil(() => markedProcesses(marks).length === 0, LEFTOVER_GRACE_MS, 100);
  }
  const left = markedProcesses(marks);
  if (alive(pid) || left.length > 0) {
    log(`could not stop proxy ${pid}${left.length ? ` and app processes ${left.join(' ')}` : ''}`);
    return 1;
  }
  if (req.socket) removeOwnSocket(req.socket);
  log(`proxy ${pid} of server ${req.server.id} is gone`);
  return 0;
}

/** The socket file the gone proxy kept (its route is removed by now); only a socket of this user is touched. */
function removeOwnSocket(path: string): void {
  try {
    const st = lstatSync(path);
    if (st.isSocket() && st.uid === process.getuid!()) unlinkSync(path);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT')
      log(`could not remove the socket ${path}: ${describeError(err)}`);
  }
}
