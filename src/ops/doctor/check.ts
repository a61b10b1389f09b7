import type { Config, ParsedConfig } from '../../config/schema.js';
import type { PasswdEntry } from '../system.js';

/** One line of doctor's report, plus the lines under it. */
export interface CheckResult {
  status: 'ok' | 'FAIL' | 'warn';
  what: string;
  /** Evidence (bad files, offending paths), printed under the line. */
  details?: string[];
  /** How to fix it: every FAIL has one. */
  fix?: string;
}

export interface DoctorContext {
  configFile: string;
  /** The config with its secrets; undefined when it is invalid. */
  config: Config | undefined;
  /** Valid keys plus defaults; undefined when the file could not be read at all. */
  settings: ParsedConfig | undefined;
  /** The service user: whoever runs doctor, or --as USER when doctor runs as root. */
  serviceUser: string;
  /** Its account; undefined when NSS does not know it. */
  account: PasswdEntry | undefined;
  /** doctor runs as root and checks on behalf of the service user. */
  root: boolean;
  /** The allowed-group member to try sudo with (--member, or found in the group). */
  member?: string;
  sudoersHint: string;
  /** The installed unit (--unit), for the checks that read it. */
  unitFile?: string;
}

export const ok = (what: string, details?: string[]): CheckResult => ({
  status: 'ok',
  what,
  ...(details ? { details } : {}),
});
export const warn = (what: string, fix?: string): CheckResult => ({
  status: 'warn',
  what,
  ...(fix ? { fix } : {}),
});
export const fail = (what: string, fix: string, details?: string[]): CheckResult => ({
  status: 'FAIL',
  what,
  fix,
  ...(details?.length ? { details } : {}),
});

/** A check that cannot run because an earlier one failed says so instead of guessing. */
export const skipped = (what: string, because: string): CheckResult =>
  warn(`${what}: not checked (${because})`);
