import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { ConfigError, errnoCode } from '../errors.js';

/**
 * Resolve a secret reference from the config file. Secrets never sit in hubapps.yaml itself:
 *   env:NAME          the environment variable NAME
 *   file:/path        the first line of the file, trimmed
 *   credential:NAME   $CREDENTIALS_DIRECTORY/NAME (systemd LoadCredential=/SetCredential=)
 * `file` and `key` only serve the error message, which names the key and where it looked.
 */
export function resolveSecret(
  ref: string,
  file: string,
  key: string,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const colon = ref.indexOf(':');
  const kind = colon < 0 ? '' : ref.slice(0, colon);
  const name = ref.slice(colon + 1);
  const fail = (problem: string) => new ConfigError(file, key, problem);
  switch (kind) {
    case 'env': {
      const value = env[name];
      if (value === undefined)
        throw fail(`environment variable ${name} is not set (from '${ref}')`);
      if (value.trim() === '') throw fail(`environment variable ${name} is empty (from '${ref}')`);
      return value.trim();
    }
    case 'file':
      if (!isAbsolute(name)) throw fail(`secret file must be an absolute path, got '${ref}'`);
      return firstLine(name, ref, fail);
    case 'credential': {
      if (name === '' || name.includes('/') || name === '.' || name === '..') {
        throw fail(`credential name must be a plain file name, got '${ref}'`);
      }
      const dir = env.CREDENTIALS_DIRECTORY;
      if (!dir) {
        throw fail(
          `'${ref}' needs $CREDENTIALS_DIRECTORY, which is not set: run under systemd with LoadCredential=${name}:/path/to/file`,
        );
      }
      return firstLine(join(dir, name), ref, fail);
    }
    default:
      throw fail(
        `'${ref}' is not a secret reference: use "env:NAME", "file:/path" or "credential:NAME"`,
      );
  }
}

/**
 * The secret exists but this user may not read it: a real problem for the service, but
 * expected when an admin checks the config without root, since the files are root's and
 * systemd hands them to the service (LoadCredential=).
 */
export class UnreadableSecretError extends ConfigError {
  constructor(from: ConfigError) {
    super(from.file, from.key, '');
    this.message = from.message;
  }
}

function firstLine(path: string, ref: string, fail: (problem: string) => ConfigError): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT') throw fail(`secret file ${path} does not exist (from '${ref}')`);
    if (code === 'EACCES')
      throw new UnreadableSecretError(
        fail(`secret file ${path} is not readable by this user (from '${ref}')`),
      );
    throw fail(`cannot read secret file ${path} (from '${ref}'): ${(err as Error).message}`);
  }
  const line = (text.split('\n', 1)[0] ?? '').trim();
  if (line === '') throw fail(`secret file ${path} is empty on its first line (from '${ref}')`);
  return line;
}
