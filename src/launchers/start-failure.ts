import type { ErrorCode } from '../errors.js';
import { PROXY_EXIT } from '../protocol/wire.js';
import type { ExitInfo, LauncherKind } from './launcher.js';

export interface StartFailure {
  code: ErrorCode;
  reason: string;
  /** The port was taken: try again with another one. */
  retry: boolean;
}

/**
 * Turn an early exit of the launched process (sudo, then the proxy) into a reason an admin
 * can act on. sudo under -n answers every refusal (no rule, wrong program, user outside
 * the group, root) with "a password is required", so that text alone says "rule missing".
 */
export function explainEarlyExit(
  kind: LauncherKind,
  exit: ExitInfo,
  logTail: string[],
  user: string,
  group: string,
): StartFailure {
  const text = logTail.join('\n');
  if (
    kind === 'sudo' &&
    /sudo: (a password is required|a terminal is required|.*is not allowed to execute|.*not in the sudoers)/.test(
      text,
    )
  ) {
    return {
      code: 'sudo_refused',
      retry: false,
      reason: `sudo refused to run the proxy as ${user}: is ${user} in group ${group} and is the sudoers rule installed (proxy_command must match it exactly)? run 'hubapps doctor'`,
    };
  }
  // A rule that names a missing file gets past the rule check: sudo then cannot find the program.
  const missing = kind === 'sudo' ? /sudo: (\S+): command not found/.exec(text) : null;
  if (missing) {
    return {
      code: 'proxy_not_installed',
      retry: false,
      reason: `sudo cannot find the proxy ${missing[1]}: proxy_command and the sudoers rule must name the installed hubapps-proxy; run 'hubapps doctor'`,
    };
  }
  if (kind === 'sudo' && /sudo: unknown user/.test(text)) {
    return {
      code: 'sudo_unknown_user',
      retry: false,
      reason: `sudo does not know the user ${user}`,
    };
  }
  // The proxy's own line counts too: the exit status may not have been collected yet when the process is found gone.
  if (
    exit.code === PROXY_EXIT.portInUse ||
    /hubapps-proxy: port \d+ on \S+ is already in use/.test(text)
  )
    return { code: 'port_in_use', retry: true, reason: 'the port was taken' };
  if (exit.code === PROXY_EXIT.appNotInCatalog) {
    return {
      code: 'app_not_in_catalog',
      retry: false,
      reason: `the proxy did not find the app in its catalog: ${lastLine(text)}`,
    };
  }
  if (exit.code === PROXY_EXIT.refused)
    return {
      code: 'proxy_refused',
      retry: false,
      reason: `the proxy ${lastLine(text).replace(/^.*?hubapps-proxy: /, '')}; run 'hubapps doctor'`,
    };
  if (exit.code === PROXY_EXIT.wrongUser)
    return {
      code: 'wrong_user',
      retry: false,
      reason: `the proxy did not run as ${user}: ${lastLine(text)}`,
    };
  const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
  return {
    code: 'proxy_exited',
    retry: false,
    reason: `the server ${how} before it was ready: ${lastLine(text) || 'see its log'}`,
  };
}

function lastLine(text: string): string {
  return text.trim().split('\n').at(-1)?.slice(0, 300) ?? '';
}
