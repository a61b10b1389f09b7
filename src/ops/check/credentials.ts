import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, join } from 'node:path';

/**
 * `credential:NAME` secrets resolve from $CREDENTIALS_DIRECTORY, which only systemd sets.
 * doctor and check-config run from a shell, so they read the unit's `LoadCredential=NAME:PATH`
 * lines and give the config loader a directory with the same files, as systemd would.
 */

export interface CredentialsEnv {
  env: NodeJS.ProcessEnv;
  /** Remove the temporary directory, if one was made. */
  dispose(): void;
}

/** NAME -> PATH of every `LoadCredential=NAME:PATH` line of a unit file (none when it does not exist). */
export function loadCredentialLines(unitText: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of unitText.split('\n')) {
    const m = /^\s*LoadCredential\s*=\s*([^:\s]+):(\S+)\s*$/.exec(line);
    if (m && isAbsolute(m[2]!)) out.set(m[1]!, m[2]!);
  }
  return out;
}

export function credentialsEnv(
  unitFile: string,
  base: NodeJS.ProcessEnv = process.env,
): CredentialsEnv {
  const none: CredentialsEnv = { env: base, dispose: () => undefined };
  if (base.CREDENTIALS_DIRECTORY) return none;
  let text: string;
  try {
    text = fs.readFileSync(unitFile, 'utf8');
  } catch {
    return none;
  }
  const creds = loadCredentialLines(text);
  if (creds.size === 0) return none;
  // The usual case, chp-token:/etc/hubapps/chp-token: point at that directory, so messages name the real file.
  const dirs = new Set([...creds.values()].map((p) => dirname(p)));
  const [onlyDir] = dirs;
  if (dirs.size === 1 && onlyDir && [...creds].every(([name, path]) => basename(path) === name)) {
    return { env: { ...base, CREDENTIALS_DIRECTORY: onlyDir }, dispose: () => undefined };
  }
  const dir = fs.mkdtempSync(join(tmpdir(), 'hubapps-credentials-'));
  for (const [name, path] of creds) fs.symlinkSync(path, join(dir, name));
  return {
    env: { ...base, CREDENTIALS_DIRECTORY: dir },
    dispose: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/** The `User=` of a unit file, if it has one. */
export function unitUser(unitFile: string): string | undefined {
  try {
    return /^\s*User\s*=\s*(\S+)\s*$/m.exec(fs.readFileSync(unitFile, 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}
